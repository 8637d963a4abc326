using Npgsql;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Testing;

/// <summary>The throw-away server library that tests, the sample and users' own grain tests start PostgreSQL with.</summary>
public sealed class PostgresTestServerTests
{
    [Fact]
    public async Task The_run_uses_the_server_its_environment_chose_and_says_which()
    {
        var connectionString = await PostgresTestServer.GetConnectionStringAsync();

        var expected = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(PostgresTestServer.ConnectionVariable))
            ? PostgresServerKind.Configured
            : Environment.GetEnvironmentVariable(PostgresTestServer.ContainerVariable) == "1"
                ? PostgresServerKind.Container
                : PostgresServerKind.PrivateCluster;
        Assert.Equal(expected, PostgresTestServer.Kind);
        Assert.Equal(expected == PostgresServerKind.PrivateCluster, PostgresTestServer.Cluster is not null);

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT current_setting('server_version_num')::int");
        Assert.True((int)(await command.ExecuteScalarAsync())! >= 150000);
    }

    [Fact]
    public async Task A_container_starts_where_Docker_runs_and_fails_naming_the_switch_where_it_does_not()
    {
        IAsyncDisposable? container = null;
        try
        {
            var (started, connectionString) = await PostgresContainer.StartAsync();
            container = started;
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var command = dataSource.CreateCommand("SELECT 1");
            Assert.Equal(1, await command.ExecuteScalarAsync());
        }
        catch (InvalidOperationException e)
        {
            // No Docker engine here: the message says what was asked for and what to do instead.
            Assert.Contains(PostgresTestServer.ContainerVariable, e.Message);
            Assert.Contains("no Docker engine is reachable", e.Message);
            Assert.Contains(PostgresTestServer.ConnectionVariable, e.Message);
        }
        finally
        {
            if (container is not null)
            {
                await container.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_private_cluster_is_a_real_server_that_is_deleted_when_disposed()
    {
        string directory;
        await using (var cluster = await PrivatePostgresCluster.StartAsync())
        {
            directory = cluster.Directory;
            await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
            await using var command = dataSource.CreateCommand("CREATE TABLE t (id bigint); INSERT INTO t VALUES (1); SELECT count(*) FROM t");
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        }

        Assert.False(Directory.Exists(directory));
    }
}
