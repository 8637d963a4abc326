using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

/// <summary>
/// Checks of a commit's input (expected version, events, metadata) before any I/O, on top of <see cref="InputChecks"/>:
/// each failure is an <see cref="ArgumentException"/> naming the stream and the event (index and name).
/// </summary>
internal static class CommitChecks
{
    /// <summary>Most events in one commit: positions reserve 20 bits for an event's index within its transaction.</summary>
    public const int MaxBatchSize = (1 << 20) - 1;

    public static void ExpectedVersion(long? expectedVersion, string stream)
    {
        if (expectedVersion < -1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(expectedVersion), expectedVersion,
                $"Expected version for stream '{InputChecks.Shorten(stream)}' must be -1 (empty stream) or a version >= 0.");
        }
    }

    public static void Batch(string stream, IReadOnlyList<EventData> events)
    {
        if (events.Count > MaxBatchSize)
        {
            throw new ArgumentException(
                $"Commit to stream '{InputChecks.Shorten(stream)}' has {events.Count} events; at most {MaxBatchSize} fit in one commit.",
                nameof(events));
        }

        HashSet<Guid>? ids = null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ArgumentException(
                $"Event #{i} of the commit to stream '{InputChecks.Shorten(stream)}' is null.", nameof(events));

            // The messages are built only on a failure: a commit checks every event of its batch.
            if (string.IsNullOrEmpty(e.Name))
            {
                throw new ArgumentException($"The name of event #{i} of the commit to stream '{InputChecks.Shorten(stream)}' is empty.", nameof(events));
            }

            if (!InputChecks.IsText(e.Name))
            {
                InputChecks.Text(e.Name, $"The name of {Where(stream, i, e)}", nameof(events));
            }

            if (e.Name.StartsWith('$'))
            {
                throw new ArgumentException($"The name of {Where(stream, i, e)} starts with '$', which is reserved for snapshots and tombstones.", nameof(events));
            }

            if (!InputChecks.IsJson(e.Json))
            {
                InputChecks.Json(e.Json, $"The payload of {Where(stream, i, e)}", nameof(events));
            }

            if (e.Id is { } id && !(ids ??= []).Add(id))
            {
                throw new ArgumentException($"The id {id} of {Where(stream, i, e)} appears twice in the batch.", nameof(events));
            }
        }
    }

    private static string Where(string stream, int i, EventData e)
        => $"event #{i} ('{InputChecks.Shorten(e.Name ?? "")}') of the commit to stream '{InputChecks.Shorten(stream)}'";

    public static void Metadata(EventMetadata metadata, string stream)
    {
        var where = $"of the commit to stream '{InputChecks.Shorten(stream)}'";
        InputChecks.OptionalText(metadata.CorrelationId, $"The correlation id {where}");
        if (metadata.Causation is { } causation)
        {
            InputChecks.OptionalText(causation.EventStream, $"The causation stream {where}");
            InputChecks.OptionalText(causation.EventName, $"The causation event name {where}");
            InputChecks.OptionalText(causation.Command, $"The causation command {where}");
            if (causation.TraceParent is not null && !System.Diagnostics.ActivityContext.TryParse(causation.TraceParent, null, out _))
            {
                throw new ArgumentException(
                    $"The causation trace parent {where} is not a W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>'): '{InputChecks.Shorten(causation.TraceParent)}'.",
                    "metadata");
            }
        }
    }
}
