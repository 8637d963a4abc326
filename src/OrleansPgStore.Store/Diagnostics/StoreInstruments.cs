using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>
/// The engine's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>. Nothing is measured or allocated for an instrument nobody listens to.
/// </summary>
/// <remarks>
/// Instruments: <c>orleanspgstore.operation.duration</c> (s; tags <c>operation</c>, <c>db.collection.name</c>,
/// <c>status</c> = ok, conflict or error, <c>error.type</c> on errors), <c>orleanspgstore.journal.events_appended</c>,
/// <c>orleanspgstore.concurrency.conflicts</c>, <c>orleanspgstore.journal.snapshot_failures</c>,
/// <c>orleanspgstore.journal.retention.deleted</c>, <c>orleanspgstore.reactions.events_handled</c>,
/// <c>orleanspgstore.listener.connected</c> (up-down: connected LISTEN sessions),
/// <c>orleanspgstore.reactions.lag.events</c>, <c>orleanspgstore.reactions.lag.seconds</c> and
/// <c>orleanspgstore.reactions.blocked</c> (gauges per <c>lane</c>, from the last <see cref="Admin.StoreAdmin.ReactionLagAsync"/>
/// sample), <c>orleanspgstore.faults</c> (self-healing faults by <c>operation</c>), <c>orleanspgstore.reactions.delay</c>
/// (s from commit to handling, per <c>lane</c>).
/// </remarks>
internal static class StoreInstruments
{
    /// <summary>Name of the meter and of the activity source.</summary>
    public const string Name = "OrleansPgStore.Store";

    internal static readonly ActivitySource ActivitySource = new(Name, typeof(StoreInstruments).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(Name, typeof(StoreInstruments).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "orleanspgstore.operation.duration", unit: "s",
        description: "Duration of engine operations, tagged with operation and status (ok, conflict, error).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly Counter<long> EventsAppended = Meter.CreateCounter<long>(
        "orleanspgstore.journal.events_appended", unit: "{event}",
        description: "Events appended to the journal.");

    private static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        "orleanspgstore.concurrency.conflicts", unit: "{conflict}",
        description: "Optimistic-concurrency conflicts reported to callers.");

    private static readonly ObservableGauge<long> LagEvents = Meter.CreateObservableGauge(
        "orleanspgstore.reactions.lag.events", () => ReactionLagSample.Measure(l => l.EventsBehind),
        unit: "{event}", description: "Events not yet handled, per lane (last sample).");

    private static readonly ObservableGauge<double> LagSeconds = Meter.CreateObservableGauge(
        "orleanspgstore.reactions.lag.seconds", ReactionLagSample.MeasureSeconds,
        unit: "s", description: "Age of the oldest event not yet handled, per lane (last sample).");

    private static readonly ObservableGauge<long> Blocked = Meter.CreateObservableGauge(
        "orleanspgstore.reactions.blocked", () => ReactionLagSample.Measure(l => l.Blocked),
        unit: "{target}", description: "Blocked reaction targets, per lane (last sample).");

    private static readonly Counter<long> SnapshotFailures = Meter.CreateCounter<long>(
        "orleanspgstore.journal.snapshot_failures", unit: "{snapshot}",
        description: "Snapshots that could not be saved (activation then replays more events).");

    private static readonly Counter<long> RetentionDeleted = Meter.CreateCounter<long>(
        "orleanspgstore.journal.retention.deleted", unit: "{row}",
        description: "Events and snapshots removed by windowed retention.");

    private static readonly Counter<long> RetentionWithheld = Meter.CreateCounter<long>(
        "orleanspgstore.journal.retention.withheld", unit: "{event}",
        description: "Events windowed retention would have deleted but kept because a subscription had not passed them (counted at every run that keeps them).");

    private static readonly Counter<long> EventsHandled = Meter.CreateCounter<long>(
        "orleanspgstore.reactions.events_handled", unit: "{event}",
        description: "Events handed to reaction handlers.");

    private static readonly UpDownCounter<long> ListenersConnected = Meter.CreateUpDownCounter<long>(
        "orleanspgstore.listener.connected", unit: "{connection}",
        description: "LISTEN connections currently connected (one per commit listener).");

    private static readonly Counter<long> Faults = Meter.CreateCounter<long>(
        "orleanspgstore.faults", unit: "{fault}",
        description: "Self-healing faults (retried connection losses, timeouts), by operation.");

    internal static long Start() => Stopwatch.GetTimestamp();

    internal static void Record(string operation, string collection, long startTimestamp, string status, Exception? error = null)
    {
        if (OperationDuration.Enabled)
        {
            var tags = new TagList
            {
                { "operation", operation },
                { "status", status },
                { "db.collection.name", collection },
            };
            if (error is not null)
            {
                tags.Add("error.type", error.GetType().FullName);
            }

            OperationDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        }
    }

    internal static void Appended(int count, string collection)
    {
        if (EventsAppended.Enabled)
        {
            EventsAppended.Add(count, new KeyValuePair<string, object?>("db.collection.name", collection));
        }
    }

    internal static void Conflict(string operation, string collection)
    {
        if (Conflicts.Enabled)
        {
            Conflicts.Add(1, new("operation", operation), new("db.collection.name", collection));
        }
    }

    internal static void Handled(int count)
    {
        if (EventsHandled.Enabled && count > 0)
        {
            EventsHandled.Add(count);
        }
    }

    internal static void SnapshotFailed(string collection)
    {
        if (SnapshotFailures.Enabled)
        {
            SnapshotFailures.Add(1, new KeyValuePair<string, object?>("db.collection.name", collection));
        }
    }

    internal static void RetentionKept(long rows, string collection)
    {
        if (RetentionWithheld.Enabled && rows > 0)
        {
            RetentionWithheld.Add(rows, new KeyValuePair<string, object?>("db.collection.name", collection));
        }
    }

    internal static void RetentionRemoved(long rows, string collection)
    {
        if (RetentionDeleted.Enabled && rows > 0)
        {
            RetentionDeleted.Add(rows, new KeyValuePair<string, object?>("db.collection.name", collection));
        }
    }

    internal static void ListenerConnected(bool connected)
    {
        if (ListenersConnected.Enabled)
        {
            ListenersConnected.Add(connected ? 1 : -1);
        }
    }

    internal static void Fault(string operation)
    {
        if (Faults.Enabled)
        {
            Faults.Add(1, new KeyValuePair<string, object?>("operation", operation));
        }
    }

    /// <summary>Whether a metrics listener observes the reaction lag gauges (so sampling is worth a query).</summary>
    public static bool IsReactionLagObserved => LagEvents.Enabled || LagSeconds.Enabled || Blocked.Enabled;

    /// <summary>
    /// Publishes a lag sample for the lag gauges. Hosts that want the gauges sample periodically (the Orleans plugin
    /// does, every <c>Reactions.LagSampleInterval</c>); the gauges report the last sample.
    /// </summary>
    /// <param name="table">The subscriptions table the sample is of (a process may run several); tagged <c>table</c>.</param>
    /// <param name="lanes">The sample, as <see cref="Admin.StoreAdmin.ReactionLagAsync"/> returns it.</param>
    public static void PublishReactionLag(string table, IReadOnlyList<LaneLag> lanes)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(lanes);
        ReactionLagSample.Publish(table, lanes);
    }
}
