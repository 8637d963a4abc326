namespace OrleansPgStore.Testing;

/// <summary>Finds the PostgreSQL server programs: on PATH, else in Debian's /usr/lib/postgresql/&lt;version&gt;/bin.</summary>
internal static class PostgresBinaries
{
    /// <summary>The folder holding <c>initdb</c> and <c>pg_ctl</c>, or <c>null</c> when PostgreSQL is not installed.</summary>
    public static string? FindBinDirectory()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                return dir;
            }
        }

        const string debian = "/usr/lib/postgresql";
        if (!Directory.Exists(debian))
        {
            return null;
        }

        return Directory.GetDirectories(debian)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Dir)
            .FirstOrDefault();
    }

    /// <summary>What to tell a developer who has neither PostgreSQL nor a server to point at.</summary>
    public const string InstallHint =
        "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/<version>/bin. " +
        "Install them (Debian/Ubuntu: 'apt-get install postgresql'), or set ORLEANSPGSTORE_TEST_CONNECTION to the " +
        "connection string of a PostgreSQL 15+ server the tests may create schemas on.";
}
