using Testcontainers.PostgreSql;

namespace OrleansPgStore.Testing;

/// <summary>A PostgreSQL server in a Docker container, through Testcontainers.</summary>
public static class PostgresContainer
{
    /// <summary>The image started unless the caller names another.</summary>
    public const string DefaultImage = "postgres:15-alpine";

    /// <summary>
    /// Starts a container and returns it with its superuser connection string. Fails with an
    /// <see cref="InvalidOperationException"/> that says so when no Docker engine is reachable.
    /// </summary>
    public static async Task<(IAsyncDisposable Container, string ConnectionString)> StartAsync(
        string image = DefaultImage, CancellationToken cancellationToken = default)
    {
        PostgreSqlContainer container;
        try
        {
            container = new PostgreSqlBuilder(image).Build();
        }
        catch (Exception e)
        {
            throw NoDocker(e);
        }

        try
        {
            await container.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await container.DisposeAsync();
            throw NoDocker(e);
        }

        return (container, container.GetConnectionString());
    }

    private static InvalidOperationException NoDocker(Exception e) => new(
        $"A PostgreSQL container was asked for ({PostgresTestServer.ContainerVariable}=1), but it could not be started: " +
        $"no Docker engine is reachable here ({e.GetType().Name}: {e.Message}). Start Docker, unset " +
        $"{PostgresTestServer.ContainerVariable} to use a private initdb cluster, or set {PostgresTestServer.ConnectionVariable}.", e);
}
