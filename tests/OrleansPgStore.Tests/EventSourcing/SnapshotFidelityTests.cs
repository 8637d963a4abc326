using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.TestingHost;
using OrleansPgStore.Serialization;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// Snapshots are a cache of the replay: loading from one gives exactly the state that replaying every event gives, for
/// every member type Orleans serializes (issue 15: JSON snapshots turned tuples into (0,0), reversed stacks and
/// dropped comparers without a word).
/// </summary>
public sealed class SnapshotFidelityTests
{
    private static InProcessTestCluster Cluster(PostgresTestSchema schema, LogCapture capture)
        => TestClusters.Build(
            schema.ConnectionString,
            schema.Name,
            silos: 1,
            configure: o =>
            {
                o.SnapshotIntervals["position"] = 2;
                o.SnapshotIntervals["corpus-snapshotted"] = 2;
                o.SnapshotIntervals["corpus-replayed"] = 0;
                o.SnapshotIntervals["odometer"] = 1;
            },
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));

    // Snapshots are saved in the background.
    private static Task WaitForSnapshotsAsync(PostgresTestSchema schema, string stream, long count) => Eventually.AtLeastAsync(
        () => schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = @stream AND snapshot", ("stream", stream)),
        count, $"snapshots of stream '{stream}'");

    private static IEnumerable<string> SnapshotWarnings(LogCapture capture)
        => capture.Messages.Where(m => m.StartsWith("Warning", StringComparison.Ordinal) && m.Contains("snapshot", StringComparison.OrdinalIgnoreCase));

    [Fact]
    public async Task A_tuple_member_survives_a_snapshot_and_reactivation_as_the_issue_reported()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapshots");
        var capture = new LogCapture();
        await using var cluster = Cluster(schema, capture);
        await cluster.DeployAsync();
        var grain = cluster.Client.GetGrain<IPositionGrain>("repro");

        // Moved(3,4) and 3 more events, snapshot interval 2: the newest snapshot covers all four.
        await grain.Move(3, 4);
        await grain.Wait();
        await grain.Wait();
        await grain.Wait();
        await WaitForSnapshotsAsync(schema, "position/repro", 2);
        await cluster.DeactivateAsync(grain);

        Assert.Equal((3, 4, 1, 3, 4), await grain.Get());
        Assert.Equal("orleans", await schema.ScalarAsync<string>(
            $"SELECT data->>'format' FROM \"{schema.Name}\".events WHERE stream = 'position/repro' AND snapshot AND version = 3"));
        Assert.Empty(SnapshotWarnings(capture));
    }

    [Fact]
    public async Task A_state_with_every_corpus_member_type_loads_from_snapshots_exactly_as_replay_and_orleans_copy_give_it()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapshots");
        var capture = new LogCapture();
        await using var cluster = Cluster(schema, capture);
        await cluster.DeployAsync();
        var snapshotted = cluster.Client.GetGrain<ISnapshottedCorpusGrain>("c");
        var replayed = cluster.Client.GetGrain<IReplayedCorpusGrain>("c");
        var expected = new SnapshotCorpusState();
        var texts = new[] { "alice", "Bob", "carol", "Dave", "eve", "Frank", "grace" };

        // Five steps: snapshots after 2 and 4, and one event after the newest; then two more on the state loaded from it.
        for (var n = 1; n <= texts.Length; n++)
        {
            await snapshotted.Step(n, texts[n - 1]);
            await replayed.Step(n, texts[n - 1]);
            expected.Apply(new CorpusStep { N = n, Text = texts[n - 1] });
            if (n is 5 or 7)
            {
                await WaitForSnapshotsAsync(schema, "corpus-snapshotted/c", n / 2);
                await cluster.DeactivateAsync(snapshotted);
                await cluster.DeactivateAsync(replayed);
                Assert.Equal(n, await snapshotted.Version());

                var copy = cluster.Silos[0].ServiceProvider.GetRequiredService<DeepCopier>().Copy(expected);
                var fromSnapshot = SnapshotCorpusState.Describe(await snapshotted.Get());
                var fromReplay = SnapshotCorpusState.Describe(await replayed.Get());
                var fromCopy = SnapshotCorpusState.Describe(copy);
                Assert.Equal(SnapshotCorpusState.Describe(expected), fromCopy);
                foreach (var (member, value) in fromCopy)
                {
                    Assert.Equal((member, value), fromSnapshot.Single(m => m.Member == member));
                    Assert.Equal((member, value), fromReplay.Single(m => m.Member == member));
                }
            }
        }

        // No snapshot was skipped or rebuilt: activation read them.
        Assert.Equal(3L, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'corpus-snapshotted/c' AND snapshot AND data->>'format' = 'orleans'"));
        Assert.Empty(SnapshotWarnings(capture));
    }

    [Fact]
    public async Task A_state_orleans_cannot_serialize_is_not_snapshotted_reported_once_per_grain_type_and_counted()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapshots");
        var capture = new LogCapture();
        var skipped = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SerializationInstruments.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Value is "odometer")
                {
                    Interlocked.Add(ref skipped, value);
                }
            }
        });
        listener.Start();
        await using var cluster = Cluster(schema, capture);
        await cluster.DeployAsync();

        foreach (var key in new[] { "a", "b" })
        {
            var odometer = cluster.Client.GetGrain<IOdometerGrain>(key);
            await odometer.Drive(3, 4);
            await odometer.Drive(-1, 1);
        }

        Assert.Equal(4, Interlocked.Read(ref skipped));
        var warning = Assert.Single(capture.Messages, m => m.Contains("cannot be serialized by Orleans", StringComparison.Ordinal));
        Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
        foreach (var part in new[] { "odometer", typeof(OdometerState).FullName!, typeof(Meters).FullName! })
        {
            Assert.Contains(part, warning, StringComparison.Ordinal);
        }

        Assert.Equal(0L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE snapshot"));
        var reloaded = cluster.Client.GetGrain<IOdometerGrain>("a");
        await cluster.DeactivateAsync(reloaded);
        Assert.Equal((9.0, 2), await reloaded.Get());
    }
}
