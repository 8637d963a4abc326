using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.State;

public sealed class DurableStateStoreTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private Task<DurableStateStore> Store() => db.StateAsync("state");

    [Fact]
    public async Task Load_of_an_absent_state_is_null()
    {
        await using var store = await Store();

        Assert.Null(await store.LoadAsync("nobody"));
    }

    [Fact]
    public async Task Insert_then_updates_advance_the_revision_by_one()
    {
        await using var store = await Store();

        Assert.Equal(1, await store.UpsertAsync("p1", 0, """{"n":1}"""));
        Assert.Equal(2, await store.UpsertAsync("p1", 1, """{"n":2}"""));
        var loaded = await store.LoadAsync("p1");

        Assert.Equal(2, loaded!.Revision);
        Assert.Equal("""{"n": 2}""", loaded.Json);
        Assert.Equal("p1", loaded.PersistenceId);
    }

    [Fact]
    public async Task Inserting_over_an_existing_state_conflicts_with_the_actual_revision()
    {
        await using var store = await Store();
        await store.UpsertAsync("p2", 0, "{}");
        await store.UpsertAsync("p2", 1, "{}");

        var conflict = await Assert.ThrowsAsync<StateConcurrencyException>(() => store.UpsertAsync("p2", 0, """{"lost":true}"""));

        Assert.Equal(("p2", 0L, 2L), (conflict.PersistenceId, conflict.ExpectedRevision, conflict.ActualRevision));
        Assert.Equal("{}", (await store.LoadAsync("p2"))!.Json);
    }

    [Fact]
    public async Task A_stale_or_absent_revision_conflicts_and_writes_nothing()
    {
        await using var store = await Store();
        await store.UpsertAsync("p3", 0, """{"v":1}""");
        await store.UpsertAsync("p3", 1, """{"v":2}""");

        var stale = await Assert.ThrowsAsync<StateConcurrencyException>(() => store.UpsertAsync("p3", 1, """{"v":"stale"}"""));
        var absent = await Assert.ThrowsAsync<StateConcurrencyException>(() => store.UpsertAsync("never", 3, "{}"));

        Assert.Equal(2, stale.ActualRevision);
        Assert.Equal(0, absent.ActualRevision);
        Assert.Equal("""{"v": 2}""", (await store.LoadAsync("p3"))!.Json);
        Assert.Null(await store.LoadAsync("never"));
    }

    [Fact]
    public async Task Racing_writers_on_one_revision_produce_one_winner()
    {
        await using var store = await Store();
        await store.UpsertAsync("p4", 0, "{}");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.UpsertAsync("p4", 1, $$"""{"writer":{{i}}}""");
                return true;
            }
            catch (StateConcurrencyException)
            {
                return false;
            }
        })));

        Assert.Equal(1, outcomes.Count(won => won));
        Assert.Equal(2, (await store.LoadAsync("p4"))!.Revision);
    }

    [Fact]
    public async Task Racing_first_inserts_produce_one_winner()
    {
        await using var store = await Store();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.UpsertAsync("p5", 0, "{}");
                return true;
            }
            catch (StateConcurrencyException)
            {
                return false;
            }
        })));

        Assert.Equal(1, outcomes.Count(won => won));
    }

    [Fact]
    public async Task Delete_is_idempotent_and_checks_the_revision_when_given()
    {
        await using var store = await Store();
        await store.UpsertAsync("p6", 0, "{}");
        await store.UpsertAsync("p6", 1, "{}");

        var conflict = await Assert.ThrowsAsync<StateConcurrencyException>(() => store.DeleteAsync("p6", 1));
        Assert.Equal(2, conflict.ActualRevision);
        Assert.NotNull(await store.LoadAsync("p6"));

        Assert.True(await store.DeleteAsync("p6", 2));
        Assert.Null(await store.LoadAsync("p6"));
        Assert.False(await store.DeleteAsync("p6", 2));
        Assert.False(await store.DeleteAsync("p6"));

        // After a delete the state starts over.
        Assert.Equal(1, await store.UpsertAsync("p6", 0, "{}"));
    }

    [Fact]
    public async Task Unconditional_delete_removes_any_revision()
    {
        await using var store = await Store();
        await store.UpsertAsync("p7", 0, "{}");

        Assert.True(await store.DeleteAsync("p7"));
        Assert.Null(await store.LoadAsync("p7"));
    }

    [Fact]
    public async Task Revisions_are_64_bit()
    {
        await using var store = await Store();
        await store.UpsertAsync("p8", 0, "{}");
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".state SET revision = 5000000000 WHERE persistence_id = 'p8'");

        Assert.Equal(5_000_000_001, await store.UpsertAsync("p8", 5_000_000_000, "{}"));
    }
}
