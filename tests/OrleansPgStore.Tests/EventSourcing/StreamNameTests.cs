using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// docs/orleans.md: a grain's stream is <c>{StreamPrefix}{grainType}/{grainKey}</c>, the text form of its GrainId
/// (integer keys in upper-case hex, Guids in format N, key extensions after <c>+</c>), for every key kind; and
/// <c>SnapshotIntervals</c> is keyed by Orleans grain type or by the grain class's full name.
/// </summary>
public sealed class StreamNameTests
{
    private static readonly Guid G = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    [Theory]
    [InlineData("")]
    [InlineData("bank:")]
    public async Task Every_key_kind_is_stored_under_the_text_form_of_its_grain_id(string prefix)
    {
        await using var schema = await PostgresTestSchema.CreateAsync("streams");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1, configure: o =>
        {
            o.StreamPrefix = prefix;
            o.SnapshotIntervals[typeof(GuidKeyLogGrain).FullName!] = 1;   // by class name
            o.SnapshotIntervals["int-compound-log"] = 1;                    // by grain type
        });
        await cluster.DeployAsync();
        var client = cluster.Client;
        var cases = new (IKeyedLog Grain, string Stream)[]
        {
            (client.GetGrain<IGuidKeyLogGrain>(G), $"guid-log/{G:N}"),
            (client.GetGrain<IIntCompoundLogGrain>(42, "ext"), "int-compound-log/2A+ext"),
            (client.GetGrain<IIntCompoundLogGrain>(-1, "a/b+c"), "int-compound-log/FFFFFFFFFFFFFFFF+a/b+c"),
            (client.GetGrain<IGuidCompoundLogGrain>(G, "ext"), $"guid-compound-log/{G:N}+ext"),
            (client.GetGrain<IStringKeyLogGrain>("with/slash and ünïcödé"), "stringkeylog/with/slash and ünïcödé"),
            (client.GetGrain<IIntKeyLogGrain>(42), "int-log/2A"),
            (client.GetGrain<IIntKeyLogGrain>(long.MinValue), "int-log/8000000000000000"),
        };

        foreach (var (grain, stream) in cases)
        {
            await grain.Add(3);
            await cluster.DeactivateAsync((IGrain)grain);
            Assert.Equal((3, 1), await grain.Get());
            var expected = prefix + ((GrainReference)grain).GrainId;
            Assert.Equal(prefix + stream, expected);
            Assert.Equal(1L, await schema.ScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema.Name}\".events WHERE NOT snapshot AND stream = '{expected.Replace("'", "''")}'"));
        }

        // Snapshot intervals of 1 apply by class name and by grain type; the others keep the default (100).
        await Eventually.WaitAsync(async () => await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE snapshot AND (stream LIKE '{prefix}guid-log/%' OR stream LIKE '{prefix}int-compound-log/%')") == 3,
            "the snapshots at interval 1 are saved");
        Assert.Equal(0L, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE snapshot AND stream NOT LIKE '{prefix}guid-log/%' AND stream NOT LIKE '{prefix}int-compound-log/%'"));
    }
}
