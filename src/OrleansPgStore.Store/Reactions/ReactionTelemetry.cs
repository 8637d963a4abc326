using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// The reaction loop's spans and measurements: one <c>reaction.handle</c> span per claimed target and batch, linked to
/// the commits of its events (their stored trace context), so one trace runs from the call that raised an event to the
/// handler that reacted to it.
/// </summary>
internal static class ReactionTelemetry
{
    // A batch handles up to a page of events; links beyond this many add little to a trace view and cost memory.
    private const int MaxLinks = 32;

    private static readonly Histogram<double> Delay = StoreInstruments.Meter.CreateHistogram<double>(
        "orleanspgstore.reactions.delay", unit: "s",
        description: "Time from an event's commit (the database's clock) to its handling, per lane.");

    /// <summary>
    /// Starts the span of handling <paramref name="events"/> in <paramref name="target"/>: a child of their commit when
    /// they all come from one trace, linked to every commit it handles; <c>null</c> when nobody listens.
    /// </summary>
    public static Activity? StartHandle(string target, string lane, long attempt, IReadOnlyList<RecordedEvent> events)
    {
        if (!StoreInstruments.ActivitySource.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        ActivityContext parent = default;
        var oneTrace = true;
        foreach (var e in events)
        {
            var commit = TraceContext.Parse(e.Metadata.Causation?.TraceParent);
            if (commit == default)
            {
                continue;
            }

            links ??= [];
            if (links.Count == 0)
            {
                parent = commit;
            }
            else if (commit.TraceId != parent.TraceId)
            {
                oneTrace = false;
            }

            if (links.Count < MaxLinks && !links.Exists(l => l.Context == commit))
            {
                links.Add(new ActivityLink(commit));
            }
        }

        var activity = StoreInstruments.ActivitySource.StartActivity(
            ActivityKind.Consumer, oneTrace ? parent : default, links: links, name: "reaction.handle " + target);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("orleanspgstore.target", target);
            activity.SetTag("orleanspgstore.lane", lane);
            activity.SetTag("orleanspgstore.attempt", attempt + 1);
            activity.SetTag("orleanspgstore.event_count", events.Count);
        }

        return activity;
    }

    /// <summary>The batch was handled: records each event's delay since its commit, ends the span.</summary>
    public static void Handled(Activity? span, string lane, IReadOnlyList<RecordedEvent> events)
    {
        if (Delay.Enabled && events.Count > 0)
        {
            var now = DateTimeOffset.UtcNow;
            var tag = new KeyValuePair<string, object?>("lane", lane);
            foreach (var e in events)
            {
                Delay.Record(Math.Max(0, (now - e.Created).TotalSeconds), tag);
            }
        }

        span?.Dispose();
    }

    /// <summary>The batch failed (it will be retried or blocked): the span records the exception and ends.</summary>
    public static void Failed(Activity? span, Exception exception)
    {
        if (span is null)
        {
            return;
        }

        span.SetStatus(ActivityStatusCode.Error, exception.Message);
        if (span.IsAllDataRequested)
        {
            span.SetTag("error.type", exception.GetType().FullName);
            span.AddException(exception);
        }

        span.Dispose();
    }
}
