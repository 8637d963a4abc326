using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>A schema of its own for one test class, with helpers that create seeded stores in it.</summary>
public sealed class SchemaFixture : IAsyncLifetime
{
    private PostgresTestSchema? _schema;

    public PostgresTestSchema Schema => _schema ?? throw new InvalidOperationException("Fixture not initialized.");

    public string Name => Schema.Name;

    public string ConnectionString => Schema.ConnectionString;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("store");

    public async ValueTask DisposeAsync()
    {
        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }

    /// <summary>Options for a journal over <paramref name="table"/>.</summary>
    /// <remarks>
    /// The default settle time: the feed's fence covers appends to the table only, so other classes' transactions on
    /// the shared server never hold a test's forward query back.
    /// </remarks>
    internal JournalStoreOptions JournalOptions(string table) => new()
    {
        ConnectionString = ConnectionString,
        Schema = Name,
        Table = table,
    };

    /// <summary>A seeded journal over its own table (tests in one class may run in parallel).</summary>
    internal async Task<JournalStore> JournalAsync(string table, Action<JournalStoreOptions>? configure = null)
    {
        var options = JournalOptions(table);
        configure?.Invoke(options);
        var store = new JournalStore(options);
        await store.SeedAsync();
        return store;
    }

    internal async Task<DurableStateStore> StateAsync(string table)
    {
        var store = new DurableStateStore(new DurableStateStoreOptions { ConnectionString = ConnectionString, Schema = Name, Table = table });
        await store.SeedAsync();
        return store;
    }

    internal async Task<LeaseStore> LeasesAsync(string table)
    {
        var store = new LeaseStore(new LeaseStoreOptions { ConnectionString = ConnectionString, Schema = Name, Table = table });
        await store.SeedAsync();
        return store;
    }

    public Task<long> CountAsync(string table, string where = "true")
        => Schema.ScalarAsync<long>($"SELECT count(*) FROM \"{Name}\".\"{table}\" WHERE {where}");
}
