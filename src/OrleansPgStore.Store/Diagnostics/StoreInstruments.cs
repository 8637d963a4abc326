using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>The engine's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>.</summary>
public static class StoreInstruments
{
    /// <summary>Name of the meter and of the activity source.</summary>
    public const string Name = "OrleansPgStore.Store";

    internal static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "orleanspgstore.operation.duration", unit: "s",
        description: "Duration of engine operations, tagged with operation and status.");

    private static readonly Counter<long> EventsAppended = Meter.CreateCounter<long>(
        "orleanspgstore.journal.events_appended", unit: "{event}",
        description: "Events appended to the journal.");

    private static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        "orleanspgstore.concurrency.conflicts", unit: "{conflict}",
        description: "Optimistic-concurrency conflicts reported to callers.");

    private static readonly Counter<long> EventsHandled = Meter.CreateCounter<long>(
        "orleanspgstore.reactions.events_handled", unit: "{event}",
        description: "Events handed to reaction handlers.");

    internal static void Handled(int count)
    {
        if (EventsHandled.Enabled && count > 0)
        {
            EventsHandled.Add(count);
        }
    }

    internal static long Start() => Stopwatch.GetTimestamp();

    internal static void Record(string operation, long startTimestamp, string status)
    {
        if (OperationDuration.Enabled)
        {
            OperationDuration.Record(
                Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
                new KeyValuePair<string, object?>("operation", operation),
                new KeyValuePair<string, object?>("status", status));
        }
    }

    internal static void Appended(int count)
    {
        if (EventsAppended.Enabled)
        {
            EventsAppended.Add(count);
        }
    }

    internal static void Conflict(string operation)
    {
        if (Conflicts.Enabled)
        {
            Conflicts.Add(1, new KeyValuePair<string, object?>("operation", operation));
        }
    }
}
