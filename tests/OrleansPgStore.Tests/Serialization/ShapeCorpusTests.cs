using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// The JSON contract's rule over the <see cref="ShapeCorpus"/>: event and state types as Orleans users write them,
/// through every path a silo uses against PostgreSQL: the journal and grain storage directly, a JournaledGrain (events
/// read back by <c>RetrieveConfirmedEvents</c> after a deactivation) and a <c>[PersistentState]</c> grain. Faithful
/// shapes read back equal to Orleans' deep copy; refused ones fail the write naming type and member, and write nothing.
/// </summary>
public sealed class ShapeCorpusTests(ShapeCorpusTests.Silo silo) : IClassFixture<ShapeCorpusTests.Silo>
{
    [Theory]
    [MemberData(nameof(ShapeCorpus.Faithfuls), MemberType = typeof(ShapeCorpus))]
    public async Task A_faithful_shape_reads_back_from_the_journal_equal_to_orleans_copy(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var value = entry.Create();
        var reference = silo.OrleansCopy(value);
        var stream = $"shape/{Guid.NewGuid():N}";

        await silo.Journal.CommitAsync(stream, [silo.Events.Serialize(value)]);
        var recorded = await silo.Journal.LoadAsync(stream).SingleAsync();

        Assert.Null(Structural.Diff(reference, silo.Events.Deserialize(recorded, entry.Type)));
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Faithfuls), MemberType = typeof(ShapeCorpus))]
    public async Task A_faithful_shape_reads_back_from_grain_storage_equal_to_orleans_copy(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var value = entry.Create();
        var reference = silo.OrleansCopy(value);

        var read = await Call<object?>(nameof(Silo.RoundTripThroughStorage), entry, value);

        Assert.Null(Structural.Diff(reference, read));
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Faithfuls), MemberType = typeof(ShapeCorpus))]
    public async Task A_faithful_shape_is_a_journaled_grains_event_that_reads_back_after_deactivation(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var value = entry.Create();
        var reference = silo.OrleansCopy(value);

        var read = await Call<List<object?>>(nameof(Silo.RaiseTwiceAndReload), entry, value);

        Assert.Equal(2, read.Count);
        Assert.All(read, e => Assert.Null(Structural.Diff(reference, e)));
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Faithfuls), MemberType = typeof(ShapeCorpus))]
    public async Task A_faithful_shape_is_a_persistent_state_that_reads_back_after_deactivation(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var value = entry.Create();
        var reference = silo.OrleansCopy(value);

        var read = await Call<object?>(nameof(Silo.WriteStateAndReload), entry, value);

        Assert.Null(Structural.Diff(reference, read));
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Conversions), MemberType = typeof(ShapeCorpus))]
    public async Task A_collection_interface_member_reads_back_with_its_items_as_the_collection_json_creates_on_every_path(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var value = entry.Create();
        var converted = silo.OrleansCopy(entry.ReadsBackAs!());
        var stream = $"shape/{Guid.NewGuid():N}";
        await silo.Journal.CommitAsync(stream, [silo.Events.Serialize(value)]);
        var recorded = await silo.Journal.LoadAsync(stream).SingleAsync();

        var reads = new List<object?> { silo.Events.Deserialize(recorded, entry.Type), await Call<object?>(nameof(Silo.RoundTripThroughStorage), entry, value),
            await Call<object?>(nameof(Silo.WriteStateAndReload), entry, value) };
        reads.AddRange(await Call<List<object?>>(nameof(Silo.RaiseTwiceAndReload), entry, value));

        Assert.All(reads, read =>
        {
            Assert.Null(Structural.Diff(converted, read));
            Assert.NotNull(Structural.Diff(silo.OrleansCopy(value), read));   // the concrete type did change
        });
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Refusals), MemberType = typeof(ShapeCorpus))]
    public async Task A_refused_shape_fails_the_journaled_grains_confirm_naming_type_and_member_and_commits_nothing(string name)
    {
        var entry = ShapeCorpus.Get(name);

        var (error, stored) = await Call<(Exception, long)>(nameof(Silo.RaiseRefused), entry, entry.Create());

        AssertNames(entry, error);
        Assert.Equal(0, stored);
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Refusals), MemberType = typeof(ShapeCorpus))]
    public async Task A_refused_shape_fails_the_persistent_state_write_naming_type_and_member_and_writes_nothing(string name)
    {
        var entry = ShapeCorpus.Get(name);

        var (error, exists) = await Call<(Exception, bool)>(nameof(Silo.WriteRefused), entry, entry.Create());

        AssertNames(entry, error);
        Assert.False(exists, "A refused state was written.");
    }

    [Theory]
    [MemberData(nameof(ShapeCorpus.Faithfuls), MemberType = typeof(ShapeCorpus))]
    public void A_stored_member_the_shape_does_not_know_fails_the_strict_read_naming_it_and_a_lax_read_skips_it(string name)
    {
        var entry = ShapeCorpus.Get(name);
        var stored = silo.Events.Serialize(entry.Create());
        var payload = System.Text.Json.Nodes.JsonNode.Parse(stored.Json)!.AsObject();
        payload["retiredMember"] = 1;

        var error = Assert.ThrowsAny<Exception>(() => silo.Events.Deserialize(Recorded(stored.Name, payload.ToJsonString()), entry.Type));
        Assert.Contains("retiredMember", error.Message, StringComparison.Ordinal);
        Assert.Contains(stored.Name, error.Message, StringComparison.Ordinal);

        var lax = new JournalEventSerializer(new EventTypeNames(new Dictionary<Type, string> { [entry.Type] = stored.Name }),
            StoredJsonOptions.Create(new(System.Text.Json.JsonSerializerDefaults.Web), strictReads: false, []), new());
        Assert.Null(Structural.Diff(silo.OrleansCopy(entry.Create()), lax.Deserialize(Recorded(stored.Name, payload.ToJsonString()), entry.Type)));
    }

    /// <summary>A missing member reads as its default unless it is required (C# required, or a constructor parameter).</summary>
    [Theory]
    [InlineData("record with required init members", "id", true)]
    [InlineData("record with required init members", "version", true)]
    [InlineData("positional record without [Id]", "to", true)]
    [InlineData("positional record with [Id]s", "limit", true)]
    [InlineData("public [Id] fields", "name", false)]
    [InlineData("private [Id] fields", "_items", false)]
    [InlineData("readonly [Id] fields, constructor parameters matching no member", "_owner", false)]
    [InlineData("three levels of inheritance, [Id(0)] on each", "one", false)]
    [InlineData("struct with [Id] fields and a property", "c", false)]
    public void A_missing_member_fails_the_read_only_when_it_is_required(string name, string member, bool required)
    {
        var entry = ShapeCorpus.Get(name);
        var stored = silo.Events.Serialize(entry.Create());
        var payload = System.Text.Json.Nodes.JsonNode.Parse(stored.Json)!.AsObject();
        Assert.True(payload.Remove(member), $"{stored.Json} has no '{member}'");

        var read = () => silo.Events.Deserialize(Recorded(stored.Name, payload.ToJsonString()), entry.Type);

        if (required)
        {
            var error = Assert.ThrowsAny<Exception>(read);
            Assert.Contains(member, error.Message, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            Assert.NotNull(read());
        }
    }

    private static OrleansPgStore.Store.Journal.RecordedEvent Recorded(string name, string json)
        => new(1, "shape/strict", 0, name, json, null, OrleansPgStore.Store.Journal.EventMetadata.None, DateTimeOffset.UnixEpoch);

    [Fact]
    public void The_negative_control_tells_a_changed_runtime_type_apart()
    {
        // What the comparison must catch: an IReadOnlyList<string> that was a string[] and reads back as a List<string>.
        Assert.NotNull(Structural.Diff(
            new ReadOnlyListHoldingArray { Names = ["a"] }, new ReadOnlyListHoldingArray { Names = new List<string> { "a" } }));
        Assert.NotNull(Structural.Diff(new PrivateIdFields().Fill(1, "a"), new PrivateIdFields().Fill(1, "b")));
    }

    private Task<TResult> Call<TResult>(string method, ShapeEntry entry, object value)
        => (Task<TResult>)typeof(Silo).GetMethod(method, BindingFlags.Instance | BindingFlags.Public)!
            .MakeGenericMethod(entry.Type).Invoke(silo, [value])!;

    /// <summary>The message names the shape's type and the member (quoted).</summary>
    private static void AssertNames(ShapeEntry entry, Exception error)
    {
        var message = error.ToString();
        Assert.True(
            message.Contains(entry.Owner!, StringComparison.Ordinal)
            && message.Contains($"'{entry.Member}'", StringComparison.OrdinalIgnoreCase),
            $"The refusal names {entry.Owner} and its member '{entry.Member}': {message}");
    }

    /// <summary>One silo whose provider names every shape, on a schema of its own.</summary>
    public sealed class Silo() : CorpusSilo("shapes", o =>
    {
        for (var i = 0; i < ShapeCorpus.Entries.Count; i++)
        {
            if (ShapeCorpus.Entries[i].Type != typeof(AliasedRecord))
            {
                o.TypeNames[ShapeCorpus.Entries[i].Type] = $"shape.{i}";
            }
        }
    })
    {
        public object OrleansCopy(object value) => Copier.Copy(value);

        public async Task<object?> RoundTripThroughStorage<T>(T value)
        {
            var storage = Services.GetRequiredKeyedService<IGrainStorage>(TestClusters.Provider);
            var id = GrainId.Create("shape", Guid.NewGuid().ToString("N"));
            await storage.WriteStateAsync("shape", id, new GrainState<T> { State = value });
            var read = new GrainState<T>();
            await storage.ReadStateAsync("shape", id, read);
            return read.State;
        }

        public async Task<List<object?>> RaiseTwiceAndReload<T>(T value)
        {
            var grain = Cluster.Client.GetGrain<IShapeLogGrain<T>>(Guid.NewGuid().ToString("N"));
            await grain.Raise(value);
            await grain.Raise(value);
            await Cluster.DeactivateAsync(grain);
            Assert.Equal(2, await grain.Count());
            return [.. (await grain.Events()).Cast<object?>()];
        }

        public async Task<object?> WriteStateAndReload<T>(T value)
        {
            var grain = Cluster.Client.GetGrain<IShapeStateGrain<T>>(Guid.NewGuid().ToString("N"));
            await grain.Write(value);
            await Cluster.DeactivateAsync(grain);
            Assert.True(await grain.Exists());
            return await grain.Read();
        }

        public async Task<(Exception, long)> RaiseRefused<T>(T value)
        {
            var key = Guid.NewGuid().ToString("N");
            var grain = Cluster.Client.GetGrain<IShapeLogGrain<T>>(key);
            var error = await Assert.ThrowsAnyAsync<Exception>(() => grain.Raise(value));
            var stored = await Schema.ScalarAsync<long>(
                $"SELECT count(*) FROM \"{Schema.Name}\".events WHERE stream LIKE '%{key}%'");
            return (error, stored);
        }

        public async Task<(Exception, bool)> WriteRefused<T>(T value)
        {
            var grain = Cluster.Client.GetGrain<IShapeStateGrain<T>>(Guid.NewGuid().ToString("N"));
            var error = await Assert.ThrowsAnyAsync<Exception>(() => grain.Write(value));
            await Cluster.DeactivateAsync(grain);
            return (error, await grain.Exists());
        }
    }
}
