using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Schema;

public sealed class SeedAndDropTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Seed_is_idempotent_and_keeps_data()
    {
        await using var store = await db.JournalAsync("seed_twice");
        await store.CommitAsync("s", Events.Many(2));

        await store.SeedAsync();
        await store.SeedAsync();

        Assert.Equal(2, await db.CountAsync("seed_twice"));
    }

    [Fact]
    public async Task Six_stores_with_different_tables_in_one_new_schema_seed_at_the_same_moment()
    {
        var schema = db.Name + "_shared";
        var stores = Enumerable.Range(0, 6)
            .Select(i => new JournalStore(new JournalStoreOptions { ConnectionString = db.ConnectionString, Schema = schema, Table = $"events_{i}" }))
            .ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.SeedAsync())));
            await Task.WhenAll(stores.Select(s => s.CommitAsync("s", Events.Many(1))));

            var tables = await db.Schema.ScalarAsync<long>(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = @s", ("s", schema));
            Assert.Equal(6 * 2, tables); // each events table and its positions table
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DropAsync();
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Drop_keeps_a_schema_other_stores_still_use_and_removes_it_with_the_last_one()
    {
        var schema = db.Name + "_drop";
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = db.ConnectionString, Schema = schema });
        await using var state = new DurableStateStore(new DurableStateStoreOptions { ConnectionString = db.ConnectionString, Schema = schema });
        await journal.SeedAsync();
        await state.SeedAsync();

        await journal.DropAsync();
        Assert.Equal(1, await SchemaCount(schema));
        await state.UpsertAsync("still-here", 0, "{}");

        await state.DropAsync();
        Assert.Equal(0, await SchemaCount(schema));

        // Dropping again, or something never seeded, is harmless.
        await state.DropAsync();
    }

    [Fact]
    public async Task Drop_never_removes_the_public_schema()
    {
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = db.ConnectionString, Table = $"{db.Name}_public_drop" });
        await journal.SeedAsync();
        await journal.DropAsync();

        Assert.Equal(1, await SchemaCount("public"));
    }

    [Fact]
    public async Task Using_a_store_that_was_not_seeded_says_to_call_seed()
    {
        await using var store = new JournalStore(db.JournalOptions("not_seeded"));

        var error = await Assert.ThrowsAsync<StoreNotSeededException>(() => store.CommitAsync("s", Events.Many(1)));

        Assert.Contains("SeedAsync", error.Message);
        Assert.Contains("not_seeded", error.Message);
        Assert.Contains("Commit to stream 's'", error.Message);
    }

    [Theory]
    [InlineData("x\"; drop table y; --")]
    [InlineData("1starts_with_digit")]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("ünicode")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Invalid_schema_and_table_names_are_rejected_before_any_sql(string name)
    {
        var badTable = Assert.Throws<ArgumentException>(() => new JournalStore(new JournalStoreOptions { ConnectionString = db.ConnectionString, Table = name }));
        var badSchema = Assert.Throws<ArgumentException>(() => new DurableStateStore(new DurableStateStoreOptions { ConnectionString = db.ConnectionString, Schema = name }));

        Assert.Contains("Table", badTable.Message);
        Assert.Contains("Schema", badSchema.Message);
    }

    [Fact]
    public void Options_need_exactly_one_of_connection_string_and_data_source()
    {
        var none = Assert.Throws<ArgumentException>(() => new JournalStore(new JournalStoreOptions()));
        using var dataSource = Npgsql.NpgsqlDataSource.Create(db.ConnectionString);
        var both = Assert.Throws<ArgumentException>(() => new JournalStore(new JournalStoreOptions { ConnectionString = db.ConnectionString, DataSource = dataSource }));

        Assert.Contains("ConnectionString or DataSource is required", none.Message);
        Assert.Contains("not both", both.Message);
    }

    [Fact]
    public async Task The_longest_table_names_get_distinct_index_names()
    {
        var a = new string('a', 63);
        var b = new string('a', 62) + "b";
        Assert.NotEqual(SqlIdentifier.Derive(a, "stream_version"), SqlIdentifier.Derive(b, "stream_version"));
        Assert.All(new[] { a, b }, t => Assert.True(SqlIdentifier.Derive(t, "stream_version").Length <= 63));

        await using var first = await db.JournalAsync(a);
        await using var second = await db.JournalAsync(b);
        await second.CommitAsync("s", Events.Many(1));
        await Assert.ThrowsAsync<OrleansPgStore.Store.Errors.StreamConcurrencyException>(() => second.CommitAsync("s", Events.Many(1), expectedVersion: -1));
    }

    private Task<long> SchemaCount(string schema)
        => db.Schema.ScalarAsync<long>("SELECT count(*) FROM pg_namespace WHERE nspname = @s", ("s", schema));
}
