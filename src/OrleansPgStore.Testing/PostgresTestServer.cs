namespace OrleansPgStore.Testing;

/// <summary>
/// The PostgreSQL server of a test run, shared by every test in the process and started on first use. Chosen at run
/// time, in order: the connection string in <see cref="ConnectionVariable"/>; a Docker container when
/// <see cref="ContainerVariable"/> is <c>1</c> (needs the OrleansPgStore.Testing.Containers package; fails clearly
/// without it or when Docker is not reachable); otherwise a private
/// throw-away cluster (<see cref="PrivatePostgresCluster"/>), stopped and deleted when the process exits. The choice
/// is written to standard error once and is available as <see cref="Kind"/>.
/// </summary>
public static class PostgresTestServer
{
    /// <summary>The environment variable naming an existing server (a connection string with rights to create schemas).</summary>
    public const string ConnectionVariable = "ORLEANSPGSTORE_TEST_CONNECTION";

    /// <summary>The environment variable that asks for a Docker container (<c>1</c>) instead of a private cluster.</summary>
    public const string ContainerVariable = "ORLEANSPGSTORE_TEST_DOCKER";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _connectionString;
    private static PrivatePostgresCluster? _cluster;
    private static IAsyncDisposable? _container;

    /// <summary>Which server was chosen; <c>null</c> until the first <see cref="GetConnectionStringAsync"/>.</summary>
    public static PostgresServerKind? Kind { get; private set; }

    /// <summary>The private cluster, when the run started one (fault tests restart it).</summary>
    public static PrivatePostgresCluster? Cluster => _cluster;

    /// <summary>A superuser connection string to the run's server, starting the server on first use.</summary>
    public static async Task<string> GetConnectionStringAsync(CancellationToken cancellationToken = default)
    {
        if (_connectionString is not null)
        {
            return _connectionString;
        }

        await Gate.WaitAsync(cancellationToken);
        try
        {
            if (_connectionString is not null)
            {
                return _connectionString;
            }

            var configured = Environment.GetEnvironmentVariable(ConnectionVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return Chosen(PostgresServerKind.Configured, configured, $"the server in {ConnectionVariable}");
            }

            if (Environment.GetEnvironmentVariable(ContainerVariable) == "1")
            {
                var (container, connectionString) = await StartContainerAsync(cancellationToken);
                _container = container;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return Chosen(PostgresServerKind.Container, connectionString, "a Docker container");
            }

            var cluster = await PrivatePostgresCluster.StartAsync(cancellationToken: cancellationToken);
            _cluster = cluster;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
            return Chosen(PostgresServerKind.PrivateCluster, cluster.ConnectionString, $"a private cluster on 127.0.0.1:{cluster.Port}");
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Stops what <see cref="GetConnectionStringAsync"/> started (an external server is left alone).</summary>
    public static async Task StopAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts a container through the OrleansPgStore.Testing.Containers package, found at run time: the Docker client
    /// it needs is restored only by test projects that ask for containers.
    /// </summary>
    private static async Task<(IAsyncDisposable Container, string ConnectionString)> StartContainerAsync(CancellationToken cancellationToken)
    {
        const string containers = "OrleansPgStore.Testing.Containers";
        var type = Type.GetType($"OrleansPgStore.Testing.PostgresContainer, {containers}")
            ?? throw new InvalidOperationException(
                $"{ContainerVariable}=1 asks for a PostgreSQL container, but this test project does not reference the package " +
                $"{containers} (dotnet add package {containers}). Add it, unset {ContainerVariable} to use a private initdb " +
                $"cluster, or set {ConnectionVariable}.");
        var start = type.GetMethod("StartAsync", [typeof(string), typeof(CancellationToken)])
            ?? throw new InvalidOperationException($"{containers} has no PostgresContainer.StartAsync(string, CancellationToken): its version does not match OrleansPgStore.Testing.");
        var image = (string)type.GetField("DefaultImage")!.GetValue(null)!;
        return await (Task<(IAsyncDisposable, string)>)start.Invoke(null, [image, cancellationToken])!;
    }

    private static string Chosen(PostgresServerKind kind, string connectionString, string description)
    {
        Kind = kind;
        Console.Error.WriteLine($"OrleansPgStore.Testing: PostgreSQL server for this run: {description}.");
        return _connectionString = connectionString;
    }
}
