using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using OrleansPgStore.Storage;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Storage;

/// <summary>
/// The Orleans grain storage conformance scenarios (Orleans.Persistence.TestKit's GrainStorageTestRunner list),
/// against the <see cref="IGrainStorage"/> a silo resolves for the provider.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainStorageConformanceTests(ClusterFixture fixture)
{
    private const string StateName = "state";

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(TestClusters.Provider);

    private static GrainId StringId(string? key = null, string type = "conformance")
        => GrainId.Create(type, key ?? Guid.NewGuid().ToString("N"));

    private static GrainId IntegerId(long key, string type = "conformance")
        => GrainId.Create(GrainType.Create(type), GrainIdKeyExtensions.CreateIntegerKey(key));

    private static GrainState<StorageState> NewState(string? etag = null, string? a = null, int b = 0, long c = 0)
        => new() { State = new StorageState { A = a, B = b, C = c }, ETag = etag };

    private async Task<GrainState<StorageState>> ReadAsync(GrainId id, string stateName = StateName)
    {
        var read = new GrainState<StorageState> { State = new StorageState() };
        await Storage.ReadStateAsync(stateName, id, read);
        return read;
    }

    /// <summary>Writes, reads back into a fresh state object and checks ETag, state and existence agree.</summary>
    private async Task WriteReadAsync(GrainId id, GrainState<StorageState> state, string stateName = StateName)
    {
        await Storage.WriteStateAsync(stateName, id, state);
        var read = await ReadAsync(id, stateName);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(state.State, read.State);
        Assert.True(read.RecordExists);
        Assert.True(state.RecordExists);
    }

    private static void AssertConflictMessage(InconsistentStateException e, GrainId id, string? etag)
    {
        Assert.Contains("ServiceId=", e.Message);
        Assert.Contains($"ProviderName={TestClusters.Provider}", e.Message);
        Assert.Contains($"GrainType={id.Type}", e.Message);
        Assert.Contains($"GrainId={id}", e.Message);
        Assert.Contains($"ETag={etag ?? "(null)"}", e.Message);
        Assert.Equal(etag, e.CurrentEtag);
    }

    [Fact]
    public async Task WriteReadIdCyrillic()
    {
        var id = StringId("Гриша-" + Guid.NewGuid().ToString("N"));
        await WriteReadAsync(id, NewState(a: "Здравствуй, мир", b: 1, c: 2));
    }

    [Fact]
    public async Task WriteDuplicateFailsWithInconsistentStateException()
    {
        var id = StringId();
        await WriteReadAsync(id, NewState(a: "first"));

        // Like a second activation that never saw the first write.
        var duplicate = NewState(a: "second");
        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, id, duplicate));

        AssertConflictMessage(e, id, null);
        Assert.Equal("1", e.StoredEtag);
        Assert.Equal("first", (await ReadAsync(id)).State!.A);
    }

    [Fact]
    public async Task WriteInconsistentFailsWithInconsistentStateException()
    {
        var id = StringId();
        var state = NewState(a: "v1");
        await WriteReadAsync(id, state);
        var stale = NewState(state.ETag, a: "stale");
        state.State!.A = "v2";
        await WriteReadAsync(id, state);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, id, stale));

        AssertConflictMessage(e, id, "1");
        Assert.Equal("2", e.StoredEtag);
        Assert.Equal("1", stale.ETag);
        Assert.Equal("v2", (await ReadAsync(id)).State!.A);

        // An ETag for a state that was never written fails too, and writes nothing.
        var missing = StringId();
        var never = NewState(Random.Shared.Next(1, int.MaxValue).ToString(CultureInfo.InvariantCulture), a: "x");
        var e2 = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, missing, never));
        Assert.Null(e2.StoredEtag);
        Assert.False((await ReadAsync(missing)).RecordExists);
    }

    [Fact]
    public async Task WriteReadWriteReadStatesInParallel()
    {
        var grains = Enumerable.Range(0, 100).Select(i => (Id: StringId($"parallel-{Guid.NewGuid():N}-{i}"), State: NewState(b: i))).ToList();
        foreach (var (id, state) in grains)
        {
            Assert.Null(state.ETag);
            await WriteReadAsync(id, state);
            Assert.NotNull(state.ETag);
        }

        await Parallel.ForEachAsync(grains, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 3 }, async (grain, _) =>
        {
            for (var k = 0; k < 10; k++)
            {
                var before = grain.State.ETag;
                grain.State.State!.C = k;
                await WriteReadAsync(grain.Id, grain.State);
                Assert.NotEqual(before, grain.State.ETag);
            }
        });

        Assert.All(grains, g => Assert.Equal("11", g.State.ETag));
    }

    [Fact]
    public async Task ReadNonExistentState()
    {
        var read = await ReadAsync(StringId());

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(new StorageState(), read.State);
    }

    [Fact]
    public async Task ReadNonExistentStateHasNonNullState()
    {
        var read = new GrainState<StorageState> { State = null! };
        await Storage.ReadStateAsync(StateName, StringId(), read);

        Assert.NotNull(read.State);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task WriteClearWrite()
    {
        var id = StringId();
        var state = NewState(a: "before");
        await WriteReadAsync(id, state);
        await Storage.ClearStateAsync(StateName, id, state);
        Assert.Null(state.ETag);

        state.State!.A = "after";
        await WriteReadAsync(id, state);
        Assert.Equal("1", state.ETag);
    }

    [Fact]
    public async Task WriteClearRead()
    {
        var id = StringId();
        var state = NewState(a: "gone", b: 3);
        await WriteReadAsync(id, state);
        var written = state.ETag;

        await Storage.ClearStateAsync(StateName, id, state);

        Assert.NotEqual(written, state.ETag);
        Assert.False(state.RecordExists);
        var read = await ReadAsync(id);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(new StorageState(), read.State);
    }

    [Fact]
    public async Task WriteReadClearReadCycle()
    {
        var id = StringId();
        for (var cycle = 0; cycle < 3; cycle++)
        {
            var state = NewState(a: $"cycle {cycle}", b: cycle);
            await WriteReadAsync(id, state);
            await Storage.ClearStateAsync(StateName, id, state);
            var read = await ReadAsync(id);
            Assert.False(read.RecordExists);
            Assert.Null(read.ETag);
        }
    }

    [Fact]
    public async Task WriteRead_StringKey()
    {
        await WriteReadAsync(StringId("a/key with/slashes+and+plus " + Guid.NewGuid()), NewState(a: "s"));
    }

    [Fact]
    public async Task WriteRead_IntegerKey()
    {
        var key = Random.Shared.NextInt64();
        var id = IntegerId(key);
        await WriteReadAsync(id, NewState(c: key));
        Assert.Equal(key, (await ReadAsync(IntegerId(key))).State!.C);
    }

    [Fact]
    public async Task ClearBeforeWrite()
    {
        var id = StringId();
        var state = NewState(a: "never written");

        await Storage.ClearStateAsync(StateName, id, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        await WriteReadAsync(id, NewState(a: "now written"));
    }

    [Fact]
    public async Task ClearStateDoesNotNullifyState()
    {
        var id = StringId();
        var state = NewState(a: "value", b: 9);
        await WriteReadAsync(id, state);

        await Storage.ClearStateAsync(StateName, id, state);

        Assert.NotNull(state.State);
        Assert.Equal(new StorageState(), state.State);
    }

    [Fact]
    public async Task ClearUpdatesETag()
    {
        var id = StringId();
        var state = NewState(a: "x");
        await WriteReadAsync(id, state);
        Assert.Equal("1", state.ETag);

        await Storage.ClearStateAsync(StateName, id, state);

        // Clear deletes the row: the ETag becomes null rather than a new value.
        Assert.Null(state.ETag);
    }

    [Fact]
    public async Task ReadAfterClear()
    {
        var id = StringId();
        var state = NewState(a: "x");
        await WriteReadAsync(id, state);
        await Storage.ClearStateAsync(StateName, id, state);

        var read = await ReadAsync(id);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Null(read.State!.A);
    }

    [Fact]
    public async Task MultipleClearOperations()
    {
        var id = StringId();
        var state = NewState(a: "x");
        await WriteReadAsync(id, state);

        await Storage.ClearStateAsync(StateName, id, state);
        await Storage.ClearStateAsync(StateName, id, state);
        await Storage.ClearStateAsync(StateName, id, state);

        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.False((await ReadAsync(id)).RecordExists);
    }

    [Fact]
    public async Task ETagChangesOnWrite()
    {
        var id = StringId();
        var state = NewState(a: "a");
        var seen = new HashSet<string?> { state.ETag };
        for (var i = 0; i < 5; i++)
        {
            state.State!.B = i;
            await WriteReadAsync(id, state);
            Assert.True(seen.Add(state.ETag), $"ETag {state.ETag} was seen before.");
        }
    }

    [Fact]
    public async Task WriteWithSameValuesUpdatesETag()
    {
        var id = StringId();
        var state = NewState(a: "same", b: 1, c: 1);
        await WriteReadAsync(id, state);
        var first = state.ETag;

        await WriteReadAsync(id, state);

        Assert.NotEqual(first, state.ETag);
    }

    [Fact]
    public async Task ClearInconsistentFailsWithInconsistentStateException()
    {
        var id = StringId();
        var state = NewState(a: "v1");
        await WriteReadAsync(id, state);
        var stale = NewState(state.ETag);
        await WriteReadAsync(id, state);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync(StateName, id, stale));
        AssertConflictMessage(e, id, "1");
        Assert.Equal("2", e.StoredEtag);

        // A null ETag says "I expect no state", which is just as wrong while one is stored.
        var blind = NewState();
        var e2 = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync(StateName, id, blind));
        AssertConflictMessage(e2, id, null);

        var read = await ReadAsync(id);
        Assert.True(read.RecordExists);
        Assert.Equal("2", read.ETag);
    }

    [Fact]
    public async Task StateNamesUseIndependentRecords()
    {
        var id = StringId();
        var first = NewState(a: "first");
        var second = NewState(a: "second");
        await WriteReadAsync(id, first, "one");
        await WriteReadAsync(id, second, "two");
        second.State!.A = "second again";
        await WriteReadAsync(id, second, "two");

        Assert.Equal("first", (await ReadAsync(id, "one")).State!.A);
        Assert.Equal("1", (await ReadAsync(id, "one")).ETag);
        Assert.Equal("2", (await ReadAsync(id, "two")).ETag);

        await Storage.ClearStateAsync("one", id, first);
        Assert.False((await ReadAsync(id, "one")).RecordExists);
        Assert.True((await ReadAsync(id, "two")).RecordExists);
    }

    [Fact]
    public async Task Two_grain_types_with_equal_keys_and_state_names_do_not_collide()
    {
        var key = Guid.NewGuid().ToString("N");
        var a = StringId(key, "type-a");
        var b = StringId(key, "type-b");
        await WriteReadAsync(a, NewState(a: "a"));
        await WriteReadAsync(b, NewState(a: "b"));

        Assert.Equal("a", (await ReadAsync(a)).State!.A);
        Assert.Equal("b", (await ReadAsync(b)).State!.A);
        var integerA = IntegerId(42_000 + Random.Shared.Next(1_000_000), "type-a");
        var integerB = GrainId.Create(GrainType.Create("type-b"), integerA.Key);
        await WriteReadAsync(integerA, NewState(b: 1));
        Assert.False((await ReadAsync(integerB)).RecordExists);
    }

    [Fact]
    public async Task Rows_are_keyed_by_service_state_name_grain_type_and_key_and_hold_jsonb()
    {
        var id = StringId("ключ/with/slash", "conformance/odd");
        await WriteReadAsync(id, NewState(a: "json", b: 5), "my/state");

        var persistenceId = PersistenceIds.For(fixture.Cluster.Options.ServiceId, "my/state", id);
        Assert.Equal($"{fixture.Cluster.Options.ServiceId}/my%2Fstate/conformance%2Fodd/ключ/with/slash", persistenceId);
        Assert.Equal(5, await fixture.ScalarAsync<int>(
            "SELECT (state->>'b')::int FROM {schema}.durable_state WHERE persistence_id = @id", ("id", persistenceId)));
    }

    [Fact]
    public async Task An_etag_that_is_not_a_revision_is_inconsistent()
    {
        var id = StringId();
        await WriteReadAsync(id, NewState(a: "x"));

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, id, NewState("W/\"abc\"")));

        AssertConflictMessage(e, id, "W/\"abc\"");
    }
}
