using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Connection;

/// <summary>
/// Statements prepared and planned once when the pool opens a connection, so reads on it pay neither for preparing nor
/// for the server loading the table's metadata.
/// </summary>
public sealed class ConnectionWarmUpTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task A_new_physical_connection_has_the_activation_reads_prepared_and_planned_before_anyone_uses_it()
    {
        JournalStore? journal = null;
        DurableStateStore? states = null;
        var warmed = new List<bool>();
        var builder = new NpgsqlDataSourceBuilder(db.ConnectionString) { ConnectionStringBuilder = { Pooling = false } };
        builder.UsePhysicalConnectionInitializer(
            _ => { },
            async connection =>
            {
                if (journal is not null && states is not null)
                {
                    warmed.Add(await journal.PrepareConnectionAsync(connection));
                    warmed.Add(await states.PrepareConnectionAsync(connection));
                }
            });
        await using var dataSource = builder.Build();
        journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "warm_events" });
        states = new DurableStateStore(new DurableStateStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "warm_state" });

        // Before the tables exist, preparing fails quietly and the connection still works.
        await using (var early = await dataSource.OpenConnectionAsync())
        {
            Assert.Equal([false, false], warmed);
            await using var command = new NpgsqlCommand("SELECT 1", early);
            Assert.Equal(1, await command.ExecuteScalarAsync());
        }

        await journal.SeedAsync();
        await states.SeedAsync();
        warmed.Clear();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var prepared = new NpgsqlCommand(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE '%warm_%'", connection);
        var statements = new List<string>();
        await using (var reader = await prepared.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                statements.Add(reader.GetString(0));
                Assert.Equal(1L, reader.GetInt64(1)); // planned (and run) once, by the warm-up
            }
        }

        Assert.All(warmed, Assert.True);
        Assert.Equal(3, statements.Count);
        Assert.Contains(statements, s => s.Contains("\"warm_events\"", StringComparison.Ordinal) && s.Contains("data::text, snapshot", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.Contains("\"warm_state\"", StringComparison.Ordinal));
        await journal.DisposeAsync();
        await states.DisposeAsync();
    }
}
