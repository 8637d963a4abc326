namespace OrleansPgStore.TestDatabase;

/// <summary>
/// The PostgreSQL server of a test run, shared by every test in the process. In order: the connection string in
/// <c>ORLEANSPGSTORE_TEST_CONNECTION</c>; a Docker container when built with <c>-p:UseTestcontainers=true</c> and
/// <c>ORLEANSPGSTORE_TEST_DOCKER=1</c>; otherwise a private throw-away cluster, stopped and deleted when the
/// process exits. Fails with instructions when none of these is possible.
/// </summary>
public static class TestServer
{
    /// <summary>The environment variable naming an existing server.</summary>
    public const string ConnectionVariable = "ORLEANSPGSTORE_TEST_CONNECTION";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _connectionString;
    private static PrivatePostgresCluster? _cluster;
    private static IAsyncDisposable? _container;

    /// <summary>The private cluster, when the run started one (fault tests restart it).</summary>
    public static PrivatePostgresCluster? Cluster => _cluster;

    /// <summary>A superuser connection string to the run's server, starting the server on first use.</summary>
    public static async Task<string> GetConnectionStringAsync()
    {
        if (_connectionString is not null)
        {
            return _connectionString;
        }

        await Gate.WaitAsync();
        try
        {
            if (_connectionString is not null)
            {
                return _connectionString;
            }

            var configured = Environment.GetEnvironmentVariable(ConnectionVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return _connectionString = configured;
            }

#if TESTCONTAINERS
            if (Environment.GetEnvironmentVariable("ORLEANSPGSTORE_TEST_DOCKER") == "1")
            {
                var container = new Testcontainers.PostgreSql.PostgreSqlBuilder().WithImage("postgres:15-alpine").Build();
                await container.StartAsync();
                _container = container;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return _connectionString = container.GetConnectionString();
            }
#endif

            _cluster = await PrivatePostgresCluster.StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => _cluster.Stop();
            return _connectionString = _cluster.ConnectionString;
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
}
