using System.Collections.Concurrent;
using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Schema;

/// <summary>
/// The engine runs as a role with no superuser or database-level rights: either owning only its schema (it seeds
/// its tables itself), or holding only table grants on tables a DBA created. docs/guarantees.md (Least privilege) lists these grants.
/// </summary>
public sealed class LeastPrivilegeTests : IAsyncLifetime
{
    /// <summary>The grants of a role that uses tables a DBA created (docs/guarantees.md: "Least privilege"); {0} schema, {1} role.</summary>
    public const string TableGrants = """
        GRANT USAGE ON SCHEMA "{0}" TO "{1}";
        GRANT SELECT, INSERT, DELETE, UPDATE (data, created) ON "{0}"."events" TO "{1}";
        GRANT SELECT ON "{0}"."events_positions" TO "{1}";
        GRANT SELECT, INSERT, UPDATE, DELETE ON "{0}"."durable_state" TO "{1}";
        GRANT SELECT, INSERT, UPDATE ON "{0}"."subscriptions" TO "{1}";
        GRANT SELECT, INSERT, UPDATE ON "{0}"."subscriptions_checkpoints" TO "{1}";
        """;

    private readonly List<string> _roles = [];
    private PostgresTestSchema? _admin;

    private PostgresTestSchema Admin => _admin!;

    public async ValueTask InitializeAsync() => _admin = await PostgresTestSchema.CreateAsync("leastprivilege");

    public async ValueTask DisposeAsync()
    {
        foreach (var role in _roles)
        {
            await Admin.ExecuteAsync($"DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\"");
        }

        await Admin.DisposeAsync();
    }

    [Fact]
    public async Task A_role_that_only_owns_its_schema_seeds_uses_and_drops_journal_state_and_leases()
    {
        var (role, connectionString) = await CreateRoleAsync();
        var schema = role + "_own";
        await Admin.ExecuteAsync($"CREATE SCHEMA \"{schema}\" AUTHORIZATION \"{role}\"");
        await using var probe = NpgsqlDataSource.Create(connectionString);
        Assert.False(await ScalarAsync<bool>(probe, "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user"));
        Assert.False(await ScalarAsync<bool>(probe, "SELECT has_database_privilege(current_database(), 'CREATE')"));

        await using var stores = new Stores(connectionString, schema);
        for (var i = 0; i < 2; i++)
        {
            await stores.Journal.SeedAsync();
            await stores.State.SeedAsync();
            await stores.Leases.SeedAsync();
        }

        await ExerciseAsync(stores, connectionString, schema);

        await stores.Journal.DropAsync();
        await stores.State.DropAsync();
        await stores.Leases.DropAsync();
        Assert.Equal(0, await Admin.ScalarAsync<long>("SELECT count(*) FROM pg_namespace WHERE nspname = @s", ("s", schema)));
    }

    [Fact]
    public async Task A_role_with_only_the_documented_table_grants_uses_tables_a_dba_created()
    {
        var (role, connectionString) = await CreateRoleAsync();
        var schema = role + "_dml";
        await Admin.ExecuteAsync(JournalStore.SchemaSql(schema) + DurableStateStore.SchemaSql(schema) + LeaseStore.SchemaSql(schema));
        await Admin.ExecuteAsync(string.Format(TableGrants, schema, role));

        await using var stores = new Stores(connectionString, schema);
        await ExerciseAsync(stores, connectionString, schema);

        // Such a role cannot seed (turn seeding off where it runs); the failure says so.
        var seed = await Assert.ThrowsAsync<StoreOperationException>(() => stores.Journal.SeedAsync());
        Assert.StartsWith($"Seed of \"{schema}\".\"events\" failed", seed.Message);
        Assert.Contains("permission denied", seed.Message);
        await Admin.ExecuteAsync($"DROP SCHEMA \"{schema}\" CASCADE");
    }

    /// <summary>Every kind of call each store makes, as the unprivileged role.</summary>
    private static async Task ExerciseAsync(Stores stores, string connectionString, string schema)
    {
        var journal = stores.Journal;
        var batch = new[] { Events.Make(id: Guid.NewGuid()), Events.Make(id: Guid.NewGuid()) };
        var committed = await journal.CommitAsync("s", batch, new EventMetadata("corr", EventCausation.FromCommand("open")), expectedVersion: -1);
        Assert.Equal(committed.Select(e => e.Position), (await journal.CommitAsync("s", batch)).Select(e => e.Position));
        await journal.CommitAsync("s", Events.Many(1));
        await journal.SaveSnapshotAsync("s", 2, """{"total": 3}""");
        await journal.SaveSnapshotAsync("s", 2, """{"total": 3}"""); // replaces: INSERT ... ON CONFLICT DO UPDATE
        Assert.Equal(2, (await journal.LoadAsync("s").ToListAsync()).Single().Version);
        Assert.Equal(3, (await journal.QueryAsync(new JournalQuery { StreamPattern = "^s$" }).ToListAsync()).Count);
        Assert.Equal(2, await journal.CurrentVersionAsync("s"));
        await journal.CommitAsync("t", Events.Many(2));
        Assert.NotNull(await journal.TruncateAsync("t", """{"total": 2}"""));
        Assert.True(await journal.TruncateBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1)) >= 3);

        var state = stores.State;
        Assert.Equal(1, await state.UpsertAsync("p", 0, "{}"));
        Assert.Equal(2, await state.UpsertAsync("p", 1, """{"v": 2}"""));
        Assert.Equal(2, (await state.LoadAsync("p"))!.Revision);
        Assert.True(await state.DeleteAsync("p", 2));

        var leases = stores.Leases;
        await leases.SubscribeAsync([new Subscription("x", "x")]);
        await leases.RaiseWorkAsync([new WorkMark(new Subscription("x", "x"), 10), new WorkMark(new Subscription("y", "y"), 10)]);
        var claimed = await leases.ClaimAsync(2, 0, "h", TimeSpan.FromMinutes(1));
        Assert.Equal(2, claimed.Count);
        Assert.Single(await leases.BlockAsync([new LeaseBlock("y", "h", 5, "poison")]));
        Assert.Single((await leases.AckAsync([new LeaseOutcome("x", "h", 10)])).Applied);
        Assert.Equal(1, await leases.UnblockAsync(SubscriptionFilter.ForStreams("y")));
        Assert.Equal(1, await leases.DeferAsync(SubscriptionFilter.ForStreams("y"), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal(1, await leases.PrioritizeAsync(SubscriptionFilter.ForStreams("y"), 5));
        Assert.Equal(2, await leases.ResetAsync(new SubscriptionFilter()));
        Assert.Equal(2, (await leases.QueryStreamsAsync(new SubscriptionFilter())).Count);

        // A worker in "another process", woken by LISTEN/NOTIFY, drains new commits through the checkpoint lease.
        var handled = new ConcurrentQueue<long>();
        await using var worker = new Stores(connectionString, schema);
        var registry = new ReactionRegistry().On("Late", (e, _) =>
        {
            handled.Enqueue(e.Position);
            return Task.CompletedTask;
        });
        await using var reactions = new ReactionWorker(
            new ReactionLoop(worker.Journal, worker.Leases, registry, new ReactionOptions { PollInterval = TimeSpan.FromMilliseconds(100) }),
            worker.Journal, listen: true);
        await reactions.StartAsync();
        var late = await journal.CommitAsync("late", Events.Many(3, "Late"));
        await Eventually.WaitAsync(() => handled.Count == 3, "the worker handles the commits");
        Assert.Equal(late.Select(e => e.Position), handled);
        Assert.Equal(1, reactions.ListenerConnections);
    }

    private async Task<(string Role, string ConnectionString)> CreateRoleAsync()
    {
        var role = $"lp_{Guid.NewGuid():N}"[..16];
        var password = Guid.NewGuid().ToString("N");
        await Admin.ExecuteAsync($"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION");
        _roles.Add(role);
        var builder = new NpgsqlConnectionStringBuilder(Admin.ConnectionString) { Username = role, Password = password, MaxPoolSize = 10 };
        return (role, builder.ConnectionString);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The three stores of one process, connected as the role, with notifications on.</summary>
    private sealed class Stores(string connectionString, string schema) : IAsyncDisposable
    {
        public JournalStore Journal { get; } = new(new JournalStoreOptions
        {
            ConnectionString = connectionString, Schema = schema, NotifyOnCommit = true,
        });

        public DurableStateStore State { get; } = new(new DurableStateStoreOptions { ConnectionString = connectionString, Schema = schema });

        public LeaseStore Leases { get; } = new(new LeaseStoreOptions { ConnectionString = connectionString, Schema = schema });

        public async ValueTask DisposeAsync()
        {
            await Journal.DisposeAsync();
            await State.DisposeAsync();
            await Leases.DisposeAsync();
        }
    }
}
