using System.Diagnostics.Metrics;

namespace OrleansPgStore.Serialization;

/// <summary>The plugin's serialization metrics.</summary>
internal static class SerializationInstruments
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "OrleansPgStore.Serialization";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> SnapshotsSkipped = Meter.CreateCounter<long>(
        "orleanspgstore.snapshots.skipped", unit: "{snapshot}",
        description: "Snapshots not taken because Orleans cannot serialize the grain's state, tagged with the grain type.");

    internal static void SnapshotSkipped(string grainType)
    {
        if (SnapshotsSkipped.Enabled)
        {
            SnapshotsSkipped.Add(1, new KeyValuePair<string, object?>("orleans.grain.type", grainType));
        }
    }
}
