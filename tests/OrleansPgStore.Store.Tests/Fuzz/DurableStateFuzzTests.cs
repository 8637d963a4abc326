using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>
/// Seeded random calls to the durable-state store, checked against a model: a write either lands at the expected
/// revision + 1 and reads back equal, or fails cleanly (bad input, stale revision) and changes nothing.
/// </summary>
public sealed class DurableStateFuzzTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    private const int Seed = 7_877;
    private static readonly int Calls = 500 * Soak.Factor;

    [Fact]
    public async Task Random_upserts_loads_and_deletes_round_trip_exactly_or_fail_cleanly_and_change_nothing()
    {
        await using var store = await db.StateAsync("fuzz_state");
        var input = new FuzzInput(Seed);
        var r = input.Random;
        var model = new Dictionary<string, (long Revision, string Canon)>(StringComparer.Ordinal);
        var ids = new List<string>();
        var outcomes = new Dictionary<string, int>();
        void Count(string outcome) => outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

        for (var call = 0; call < Calls; call++)
        {
            var (id, idExpect) = ids.Count > 0 && r.Next(3) > 0 ? (input.Pick(ids), Expect.Success) : input.Key("p");
            var current = id is not null && model.TryGetValue(id, out var stored) ? stored.Revision : 0;
            var kind = r.Next(4);
            if (kind < 2)
            {
                var expected = r.Next(8) == 0
                    ? input.Pick([-1, long.MinValue, long.MaxValue, current + 1])
                    : input.Pick([current, current, current, 0, current - 1]);
                var (json, jsonExpect) = r.Next(5) == 0 ? input.Json() : (input.Value(0, 3), Expect.Success);
                var rejected = idExpect == Expect.Rejected || expected < 0 || jsonExpect == Expect.Rejected;
                var conflict = expected != current;
                try
                {
                    var revision = await store.UpsertAsync(id!, expected, json);
                    Assert.False(rejected || conflict || jsonExpect != Expect.Success, $"upsert of '{id}' at {expected} (stored {current}) succeeded");
                    Assert.Equal(expected + 1, revision);
                    if (!model.ContainsKey(id!))
                    {
                        ids.Add(id!);
                    }

                    model[id!] = (revision, JsonCanon.Of(json));
                    Count("upsert ok");
                }
                catch (StateConcurrencyException e) when (!rejected && conflict)
                {
                    Assert.Equal((id, expected, current), (e.PersistenceId, e.ExpectedRevision, e.ActualRevision));
                    Count("upsert conflict");
                }
                catch (Exception e) when (rejected || jsonExpect == Expect.RejectedSomewhere)
                {
                    Assert.True(e is ArgumentException || (!rejected && e is StoreOperationException), $"upsert of '{id}': {e}");
                    Count("upsert rejected");
                }
            }
            else if (kind == 2)
            {
                try
                {
                    var loaded = await store.LoadAsync(id!);
                    Assert.Equal(Expect.Success, idExpect);
                    Assert.Equal(current, loaded?.Revision ?? 0);
                    if (loaded is not null)
                    {
                        Assert.Equal((id, model[id!].Canon), (loaded.PersistenceId, JsonCanon.Of(loaded.Json)));
                    }

                    Count("load ok");
                }
                catch (ArgumentException) when (idExpect == Expect.Rejected)
                {
                    Count("load rejected");
                }
            }
            else
            {
                long? expected = r.Next(2) == 0 ? null : input.Pick([current, current, 0, current + 1, -1]);
                var rejected = idExpect == Expect.Rejected || expected < 0;
                var conflict = current != 0 && expected is not null && expected != current;
                try
                {
                    var deleted = await store.DeleteAsync(id!, expected);
                    Assert.False(rejected || conflict, $"delete of '{id}' at {expected} (stored {current}) succeeded");
                    Assert.Equal(current != 0, deleted);
                    model.Remove(id!);
                    ids.Remove(id!);
                    Count(deleted ? "delete ok" : "delete absent");
                }
                catch (StateConcurrencyException e) when (!rejected && conflict)
                {
                    Assert.Equal((id, expected!.Value, current), (e.PersistenceId, e.ExpectedRevision, e.ActualRevision));
                    Count("delete conflict");
                }
                catch (ArgumentException) when (rejected)
                {
                    Count("delete rejected");
                }
            }

            Assert.Equal(model.Count, await db.CountAsync("fuzz_state"));
        }

        foreach (var (id, (revision, canon)) in model)
        {
            var loaded = await store.LoadAsync(id);
            Assert.Equal((revision, canon), (loaded!.Revision, JsonCanon.Of(loaded.Json)));
        }

        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(outcomes.GetValueOrDefault("upsert ok") > 50);
        Assert.True(outcomes.GetValueOrDefault("upsert conflict") > 10);
        Assert.True(outcomes.GetValueOrDefault("delete conflict") > 0);
    }

    [Fact]
    public async Task A_10_MB_state_round_trips_exactly()
    {
        await using var store = await db.StateAsync("fuzz_state_large");
        var json = new FuzzInput(Seed).Large(10 * 1024 * 1024);

        Assert.Equal(1, await store.UpsertAsync("large", 0, json));

        Assert.Equal(JsonCanon.Of(json), JsonCanon.Of((await store.LoadAsync("large"))!.Json));
    }
}
