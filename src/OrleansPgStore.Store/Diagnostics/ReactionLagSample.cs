using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>
/// The last reaction-lag sample per subscriptions table, read by the lag gauges. Observable gauges are read
/// synchronously by the metrics pipeline, so they must never query the database themselves.
/// </summary>
internal static class ReactionLagSample
{
    private static readonly ConcurrentDictionary<string, IReadOnlyList<LaneLag>> Samples = new();

    public static void Publish(string table, IReadOnlyList<LaneLag> lanes) => Samples[table] = lanes;

    public static IEnumerable<Measurement<long>> Measure(Func<LaneLag, long> value)
        => Samples.SelectMany(s => s.Value.Select(l => new Measurement<long>(value(l), Tags(s.Key, l))));

    public static IEnumerable<Measurement<double>> MeasureSeconds()
        => Samples.SelectMany(s => s.Value.Select(l => new Measurement<double>(l.TimeBehind.TotalSeconds, Tags(s.Key, l))));

    private static KeyValuePair<string, object?>[] Tags(string table, LaneLag lane)
        => [new("table", table), new("lane", lane.Lane)];
}
