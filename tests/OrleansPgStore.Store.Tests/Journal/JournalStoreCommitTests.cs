using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

public sealed class JournalStoreCommitTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Versions_are_zero_based_and_contiguous_per_stream()
    {
        await using var store = await db.JournalAsync("commit_versions");

        var first = await store.CommitAsync("a", Events.Many(3));
        var second = await store.CommitAsync("a", Events.Many(2), expectedVersion: 2);
        var other = await store.CommitAsync("b", Events.Many(1));

        Assert.Equal([0L, 1, 2], first.Select(e => e.Version));
        Assert.Equal([3L, 4], second.Select(e => e.Version));
        Assert.Equal([0L], other.Select(e => e.Version));
        var positions = first.Concat(second).Select(e => e.Position).ToList();
        Assert.Equal(positions.Order(), positions);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.All(first, e => Assert.Equal("a", e.Stream));
        Assert.Equal(4, await store.CurrentVersionAsync("a"));
        Assert.Equal(-1, await store.CurrentVersionAsync("never-written"));
    }

    [Fact]
    public async Task Expected_version_minus_one_asserts_an_empty_stream()
    {
        await using var store = await db.JournalAsync("commit_empty");

        await store.CommitAsync("s", Events.Many(1), expectedVersion: -1);
        var conflict = await Assert.ThrowsAsync<StreamConcurrencyException>(
            () => store.CommitAsync("s", Events.Many(1), expectedVersion: -1));

        Assert.Equal("s", conflict.Stream);
        Assert.Equal(-1, conflict.ExpectedVersion);
        Assert.Equal(0, conflict.ActualVersion);
        Assert.Equal(1, await db.CountAsync("commit_empty"));
    }

    [Fact]
    public async Task A_stale_expected_version_is_rejected_with_both_versions_and_writes_nothing()
    {
        await using var store = await db.JournalAsync("commit_stale");
        await store.CommitAsync("s", Events.Many(3));

        var conflict = await Assert.ThrowsAsync<StreamConcurrencyException>(
            () => store.CommitAsync("s", Events.Many(2), expectedVersion: 1));

        Assert.Equal(1, conflict.ExpectedVersion);
        Assert.Equal(2, conflict.ActualVersion);
        Assert.Contains("'s'", conflict.Message);
        Assert.Equal(3, await db.CountAsync("commit_stale"));

        var ahead = await Assert.ThrowsAsync<StreamConcurrencyException>(
            () => store.CommitAsync("s", Events.Many(1), expectedVersion: 7));
        Assert.Equal(2, ahead.ActualVersion);
    }

    [Fact]
    public async Task An_empty_batch_does_no_io()
    {
        // Not seeded: any I/O would fail with StoreNotSeededException.
        await using var store = new JournalStore(db.JournalOptions("never_seeded_empty_batch"));

        var committed = await store.CommitAsync("s", [], expectedVersion: 42);

        Assert.Empty(committed);
    }

    [Fact]
    public async Task Committed_events_carry_payload_metadata_and_commit_time()
    {
        await using var store = await db.JournalAsync("commit_meta");
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var cause = (await store.CommitAsync("cause", [Events.Make("Ordered")]))[0];

        var metadata = new EventMetadata("corr-1", EventCausation.FromEvent(cause));
        var committed = await store.CommitAsync("s", [new EventData("Paid", """{"amount": 12.5, "tags": ["x"]}""")], metadata);
        var loaded = await store.LoadAsync("s").ToListAsync();

        var e = Assert.Single(loaded);
        Assert.Equal(committed[0].Position, e.Position);
        Assert.Equal("Paid", e.Name);
        Assert.Equal(12.5, e.Deserialize<Payment>(System.Text.Json.JsonSerializerOptions.Web)!.Amount);
        Assert.Equal("corr-1", e.Metadata.CorrelationId);
        Assert.Equal(new EventCausation(cause.Position, "cause", "Ordered"), e.Metadata.Causation);
        Assert.InRange(e.Created, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.False(e.IsSnapshot);
    }

    [Fact]
    public async Task Payloads_are_jsonb_and_queryable_in_sql()
    {
        await using var store = await db.JournalAsync("commit_jsonb");
        await store.CommitAsync("s", [new EventData("Paid", """{"amount": 7}"""), new EventData("Paid", """{"amount": 9}""")]);

        var total = await db.Schema.ScalarAsync<decimal>($"SELECT sum((data->>'amount')::numeric) FROM \"{db.Name}\".commit_jsonb");

        Assert.Equal(16m, total);
    }

    [Fact]
    public async Task Retrying_a_batch_with_stored_event_ids_returns_the_stored_events_and_appends_nothing()
    {
        await using var store = await db.JournalAsync("commit_idempotent");
        var ids = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var batch = new[] { Events.Make(id: ids[0]), Events.Make(id: ids[1]) };

        var first = await store.CommitAsync("s", batch, expectedVersion: -1);
        var retry = await store.CommitAsync("s", batch, expectedVersion: -1);

        Assert.Equal(first.Select(e => (e.Position, e.Version, e.Id)), retry.Select(e => (e.Position, e.Version, e.Id)));
        Assert.Equal(2, await db.CountAsync("commit_idempotent"));

        // The same ids in another stream are other events.
        await store.CommitAsync("t", batch);
        Assert.Equal(4, await db.CountAsync("commit_idempotent"));
    }

    [Fact]
    public async Task Retrying_a_single_event_with_a_stored_id_returns_the_stored_event_whatever_the_expected_version()
    {
        await using var store = await db.JournalAsync("commit_idempotent_one");
        var id = Guid.NewGuid();
        var first = (await store.CommitAsync("s", [new EventData("Paid", """{"n":1}""", id)], new EventMetadata("c"), expectedVersion: -1))[0];
        await store.CommitAsync("s", Events.Many(2));

        var retry = (await store.CommitAsync("s", [new EventData("Paid", """{"n":1}""", id)], new EventMetadata("c"), expectedVersion: -1))[0];

        Assert.Equal((first.Position, first.Version, first.Id, "Paid", "c"), (retry.Position, retry.Version, retry.Id, retry.Name, retry.Metadata.CorrelationId));
        Assert.Equal(3, await db.CountAsync("commit_idempotent_one"));
        var conflict = await Assert.ThrowsAsync<StreamConcurrencyException>(
            () => store.CommitAsync("s", [new EventData("Paid", "{}", Guid.NewGuid())], expectedVersion: 0));
        Assert.Equal(2, conflict.ActualVersion);
    }

    [Fact]
    public async Task Concurrent_retries_of_one_event_with_an_id_append_it_once()
    {
        await using var store = await db.JournalAsync("commit_idempotent_one_race");
        var e = Events.Make(id: Guid.NewGuid());

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.CommitAsync("s", [e]))));

        Assert.Equal(1, await db.CountAsync("commit_idempotent_one_race"));
        Assert.All(results, r => Assert.Equal(results[0][0].Position, r[0].Position));
    }

    [Fact]
    public async Task A_batch_that_repeats_only_some_stored_ids_is_rejected()
    {
        await using var store = await db.JournalAsync("commit_partial_ids");
        var id = Guid.NewGuid();
        await store.CommitAsync("s", [Events.Make(id: id)]);

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => store.CommitAsync("s", [Events.Make(id: id), Events.Make(id: Guid.NewGuid())]));

        Assert.Contains(id.ToString(), error.Message);
        Assert.Equal(1, await db.CountAsync("commit_partial_ids"));
    }

    [Fact]
    public async Task Concurrent_idempotent_retries_of_one_batch_append_it_once()
    {
        await using var store = await db.JournalAsync("commit_idempotent_race");
        var batch = Enumerable.Range(0, 5).Select(i => Events.Make(value: i, id: Guid.NewGuid())).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.CommitAsync("s", batch))));

        Assert.Equal(5, await db.CountAsync("commit_idempotent_race"));
        Assert.All(results, r => Assert.Equal(results[0].Select(e => e.Position), r.Select(e => e.Position)));
    }

    [Fact]
    public async Task Racing_writers_with_the_same_expected_version_produce_exactly_one_winner()
    {
        await using var store = await db.JournalAsync("commit_race");
        await store.CommitAsync("s", Events.Many(1));

        var attempts = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            try
            {
                await store.CommitAsync("s", Events.Many(2), expectedVersion: 0);
                return true;
            }
            catch (StreamConcurrencyException e)
            {
                Assert.Equal(0, e.ExpectedVersion);
                Assert.Equal(2, e.ActualVersion);
                return false;
            }
        }));
        var outcomes = await Task.WhenAll(attempts);

        Assert.Equal(1, outcomes.Count(won => won));
        Assert.Equal(3, await db.CountAsync("commit_race"));
    }

    [Fact]
    public async Task Unchecked_concurrent_appends_to_one_stream_all_land_with_contiguous_versions()
    {
        await using var store = await db.JournalAsync("commit_unchecked");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => store.CommitAsync("s", [Events.Make(value: i)]))));

        var loaded = await store.LoadAsync("s").ToListAsync();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), loaded.Select(e => e.Version));
        Assert.Equal(Enumerable.Range(0, 20), loaded.Select(e => e.Deserialize<Value>()!.value).Order());
        Assert.Equal(loaded.Select(e => e.Position).Order(), loaded.Select(e => e.Position));
    }

    private sealed record Payment(double Amount);

    private sealed record Value(int value);
}
