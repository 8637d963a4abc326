using OrleansPgStore.Store;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Codecs;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansPgStore.Hosting;
using OrleansPgStore.Serialization;
using OrleansPgStore.Testing;
using OrleansPgStore.TestSupport;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// The JSON contract's rule over the <see cref="TypeCorpus"/>, through the paths a silo really uses against PostgreSQL:
/// events through the provider's <see cref="JournalEventSerializer"/> and the journal, states through the provider's
/// grain storage. Faithful types read back equal to Orleans' deep copy of the original; refused ones fail the write
/// naming type and member, with nothing written.
/// </summary>
public sealed class TypeCorpusTests(TypeCorpusTests.Silo silo) : IClassFixture<TypeCorpusTests.Silo>
{
    [Theory]
    [MemberData(nameof(TypeCorpus.Faithfuls), MemberType = typeof(TypeCorpus))]
    public async Task A_faithful_type_reads_back_from_the_journal_equal_to_orleans_copy(string name)
    {
        var entry = TypeCorpus.Get(name);
        var holder = entry.CreateHolder();
        var reference = silo.OrleansCopy(holder);
        var stream = $"corpus/{Guid.NewGuid():N}";

        await silo.Journal.CommitAsync(stream, [silo.Events.Serialize(holder)]);
        var recorded = await silo.Journal.LoadAsync(stream).SingleAsync();
        var read = silo.Events.Deserialize(recorded, entry.HolderType);

        Assert.Null(Structural.Diff(reference, read));
    }

    [Theory]
    [MemberData(nameof(TypeCorpus.Faithfuls), MemberType = typeof(TypeCorpus))]
    public async Task A_faithful_type_reads_back_from_grain_storage_equal_to_orleans_copy(string name)
    {
        var entry = TypeCorpus.Get(name);
        var holder = entry.CreateHolder();
        var reference = silo.OrleansCopy(holder);

        var read = await (Task<object?>)RoundTripThroughStorage.MakeGenericMethod(entry.HolderType).Invoke(silo, [holder])!;

        Assert.Null(Structural.Diff(reference, read));
    }

    [Theory]
    [MemberData(nameof(TypeCorpus.Refusals), MemberType = typeof(TypeCorpus))]
    public async Task A_refused_type_fails_the_event_write_naming_type_and_member(string name)
    {
        var entry = TypeCorpus.Get(name);
        var stream = $"corpus/{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => silo.Journal.CommitAsync(stream, [silo.Events.Serialize(entry.CreateHolder())]));

        AssertNames(entry, error);
        Assert.Equal(-1, await silo.Journal.CurrentVersionAsync(stream));
    }

    [Theory]
    [MemberData(nameof(TypeCorpus.Refusals), MemberType = typeof(TypeCorpus))]
    public async Task A_refused_type_fails_the_state_write_naming_type_and_member_and_writes_nothing(string name)
    {
        var entry = TypeCorpus.Get(name);

        var error = await Assert.ThrowsAnyAsync<Exception>(
            () => (Task<object?>)RoundTripThroughStorage.MakeGenericMethod(entry.HolderType).Invoke(silo, [entry.CreateHolder()])!);

        AssertNames(entry, error);
        Assert.IsType<OrleansException>(error);
        Assert.Contains("cannot be written", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_table_is_the_corpus()
    {
        var path = Path.Combine(RepositoryRoot.Path, "docs", "json-contract.md");
        var document = File.ReadAllText(path);
        var start = document.IndexOf(TableStart, StringComparison.Ordinal);
        var end = document.IndexOf(TableEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"{path} has no {TableStart} … {TableEnd} section.");
        var expected = document[..(start + TableStart.Length)] + "\n" + Table() + document[end..];
        if (Environment.GetEnvironmentVariable("UPDATE_JSON_CONTRACT_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        Assert.True(document == expected,
            "docs/json-contract.md's corpus table differs from TypeCorpus; run this test with UPDATE_JSON_CONTRACT_DOCS=1 to rewrite it.");
    }

    private const string TableStart = "<!-- corpus table: generated from tests/OrleansPgStore.Tests/Serialization/TypeCorpus.cs -->";
    private const string TableEnd = "<!-- end of corpus table -->";

    private static readonly MethodInfo RoundTripThroughStorage =
        typeof(Silo).GetMethod(nameof(Silo.RoundTripThroughStorage), BindingFlags.Instance | BindingFlags.Public)!;

    /// <summary>The message names the owning type and the member (quoted).</summary>
    private static void AssertNames(CorpusEntry entry, Exception error)
    {
        var message = error.Message;
        Assert.True(
            message.Contains(entry.Owner, StringComparison.Ordinal)
            && message.Contains($"'{entry.Member}'", StringComparison.OrdinalIgnoreCase),
            $"The refusal names {entry.Owner} and its member '{entry.Member}': {message}");
    }

    /// <summary>The markdown table: each corpus type, and its stored form or why it is refused.</summary>
    private static string Table()
    {
        var options = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, []);
        var table = new StringBuilder();
        table.Append("| Type | Stored as |\n|---|---|\n");
        foreach (var entry in TypeCorpus.Entries)
        {
            var holder = entry.CreateHolder();
            var value = holder.GetType().GetField(nameof(Holder<int>.Value))!.GetValue(holder);
            var stored = entry.Faithful
                ? $"`{JsonSerializer.Serialize(value, entry.ValueType, options).Replace("|", "\\|", StringComparison.Ordinal)}`"
                : $"**refused**: {entry.Reason}";
            table.Append($"| {Markdown(entry.Name)} | {stored} |\n");
        }

        return table.ToString();
    }

    private static string Markdown(string text)
        => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);


    /// <summary>One silo whose provider names every corpus holder type, on a schema of its own.</summary>
    public sealed class Silo() : CorpusSilo("corpus", o =>
    {
        for (var i = 0; i < TypeCorpus.Entries.Count; i++)
        {
            o.TypeNames[TypeCorpus.Entries[i].HolderType] = $"corpus.{i}";
        }
    })
    {
        /// <summary>Orleans' deep copy of <paramref name="holder"/>: the reference a faithful type must equal. A value
        /// Orleans has no codec for (a plain type without [GenerateSerializer]) is its own reference.</summary>
        public object OrleansCopy(object holder)
        {
            try
            {
                return Copier.Copy(holder);
            }
            catch (CodecNotFoundException)
            {
                return holder;
            }
        }

        public async Task<object?> RoundTripThroughStorage<T>(T holder)
        {
            var storage = Services.GetRequiredKeyedService<IGrainStorage>(TestClusters.Provider);
            var id = GrainId.Create("corpus", Guid.NewGuid().ToString("N"));
            try
            {
                await storage.WriteStateAsync("corpus", id, new GrainState<T> { State = holder });
            }
            catch
            {
                var after = new GrainState<T>();
                await storage.ReadStateAsync("corpus", id, after);
                Assert.False(after.RecordExists, "A refused state was written.");
                throw;
            }

            var read = new GrainState<T>();
            await storage.ReadStateAsync("corpus", id, read);
            return read.State;
        }
    }
}
