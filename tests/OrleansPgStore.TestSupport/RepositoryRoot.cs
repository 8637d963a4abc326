namespace OrleansPgStore.TestSupport;

/// <summary>The checkout the tests run from, for tests that read its files (published SQL, sources, docs).</summary>
public static class RepositoryRoot
{
    /// <summary>The folder holding OrleansPgStore.sln, found upwards from the test assembly.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "OrleansPgStore.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (OrleansPgStore.sln) was not found above " + AppContext.BaseDirectory);
    }
}
