using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansPgStore.Testing;

/// <summary>
/// A throw-away PostgreSQL cluster: <c>initdb</c> into a temporary folder, a server on loopback at a free port,
/// stopped and deleted on <see cref="DisposeAsync"/>. Runs the server as the <c>postgres</c> OS user when the
/// process is root (PostgreSQL refuses to run as root). Clusters left behind by a crashed run are removed by the
/// next one.
/// </summary>
public sealed class PrivatePostgresCluster : IAsyncDisposable
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "orleanspgstore-pg");
    private readonly string _bin;
    private readonly string _directory;
    private bool _stopped;

    private PrivatePostgresCluster(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>A superuser connection string to the <c>postgres</c> database.</summary>
    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Maximum Pool Size=50;Timeout=30;Command Timeout=120";

    /// <summary>Where the cluster's data and log live.</summary>
    public string Directory => _directory;

    /// <summary>
    /// Creates and starts a cluster. <paramref name="durable"/> false (tests) turns off fsync and full-page writes
    /// for speed; true (benchmarks) keeps PostgreSQL's durable defaults so commit costs are real.
    /// </summary>
    public static async Task<PrivatePostgresCluster> StartAsync(bool durable = false, CancellationToken cancellationToken = default)
    {
        var bin = PostgresBinaries.FindBinDirectory() ?? throw new InvalidOperationException(PostgresBinaries.InstallHint);
        CleanLeftovers(bin);

        var directory = Path.Combine(Root, $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]);
        System.IO.Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "owner.pid"), Environment.ProcessId.ToString(), cancellationToken);
        await GiveToPostgresUserAsync(directory, cancellationToken);

        var data = Path.Combine(directory, "data");
        await RunAsync(bin, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "-N"], cancellationToken);

        var settings = new List<string>
        {
            "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c max_connections=300",
            "-c shared_buffers=256MB", "-c max_wal_size=4GB",
        };
        settings.AddRange(durable
            ? []
            : ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]);

        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var options = string.Join(' ', settings) + $" -p {port}";
            try
            {
                await RunAsync(bin, "pg_ctl", ["-D", data, "-l", Path.Combine(directory, "server.log"), "-o", options, "-w", "-t", "60", "start"], cancellationToken);
                StartReaper(bin, directory);
                return new PrivatePostgresCluster(bin, directory, port);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // The port was taken between probing and binding; try another.
            }
        }
    }

    /// <summary>Stops the server (immediately: the data is thrown away) and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await StopAndDeleteAsync(_bin, _directory);
    }

    /// <summary>Stops the server and deletes the folder, synchronously (for process-exit handlers).</summary>
    public void Stop()
    {
        if (!_stopped)
        {
            _stopped = true;
            StopAndDeleteAsync(_bin, _directory).GetAwaiter().GetResult();
        }
    }

    /// <summary>Restarts the server on the same port (fault tests): every connection is dropped.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        var data = Path.Combine(_directory, "data");
        await RunAsync(_bin, "pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "restart"], cancellationToken);
    }

    /// <summary>
    /// Restarts the server on the same port the way a crash would (<c>pg_ctl -m immediate</c>): no shutdown checkpoint,
    /// every connection dropped, and commits whose WAL was not yet written out (asynchronous commits) lost; the server
    /// runs crash recovery as it starts. For fault tests.
    /// </summary>
    public async Task CrashRestartAsync(CancellationToken cancellationToken = default)
    {
        var data = Path.Combine(_directory, "data");
        await RunAsync(_bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "60", "restart"], cancellationToken);
    }

    /// <summary>
    /// Runs one of the server's programs (<c>pg_dump</c>, <c>pg_restore</c>, <c>psql</c>...) from the cluster's bin folder,
    /// as the <c>postgres</c> OS user when the process is root; files it writes belong in <see cref="Directory"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The program failed; the message holds its output.</exception>
    public Task RunProgramAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        // The bin folder found may hold links to the server programs only (e.g. /usr/local/bin -> Debian's folder):
        // the others live next to where initdb really is.
        var bin = File.Exists(Path.Combine(_bin, program))
            ? _bin
            : Path.GetDirectoryName(new FileInfo(Path.Combine(_bin, "initdb")).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "") ?? _bin;
        return RunAsync(bin, program, arguments, cancellationToken);
    }

    private static async Task StopAndDeleteAsync(string bin, string directory)
    {
        var data = Path.Combine(directory, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
        {
            try
            {
                await RunAsync(bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Starts a detached shell that stops the server and deletes its folder once this process has exited, however it
    /// exits: a test host is often ended before its process-exit handlers run, and would leave the cluster behind.
    /// </summary>
    private static void StartReaper(string bin, string directory)
    {
        static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";
        var pgCtl = $"{Quote(Path.Combine(bin, "pg_ctl"))} -D {Quote(Path.Combine(directory, "data"))} -m immediate -w -t 30 stop";
        if (Environment.IsPrivilegedProcess)
        {
            pgCtl = $"runuser -u postgres -- {pgCtl}";
        }

        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; " +
            $"{pgCtl}; rm -rf {Quote(directory)}";
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var argument in (string[])["sh", "-c", script])
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var reaper = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid here: the process-exit handler and the next run's clean-up remain.
        }
    }

    private static void CleanLeftovers(string bin)
    {
        if (!System.IO.Directory.Exists(Root))
        {
            return;
        }

        foreach (var directory in System.IO.Directory.GetDirectories(Root))
        {
            var ownerFile = Path.Combine(directory, "owner.pid");
            if (File.Exists(ownerFile) && int.TryParse(File.ReadAllText(ownerFile), out var owner) && IsAlive(owner))
            {
                continue;
            }

            StopAndDeleteAsync(bin, directory).GetAwaiter().GetResult();
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task GiveToPostgresUserAsync(string directory, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Root);
        await RunProcessAsync("chmod", ["755", Root], cancellationToken);
        await RunProcessAsync("chown", ["-R", "postgres:postgres", directory], cancellationToken);
    }

    /// <summary>Runs a PostgreSQL program, as the postgres user when this process is root.</summary>
    private static Task RunAsync(string bin, string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var executable = Path.Combine(bin, program);
        return Environment.IsPrivilegedProcess
            ? RunProcessAsync("runuser", ["-u", "postgres", "--", executable, .. arguments], cancellationToken)
            : RunProcessAsync(executable, arguments, cancellationToken);
    }

    private static async Task RunProcessAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }
}
