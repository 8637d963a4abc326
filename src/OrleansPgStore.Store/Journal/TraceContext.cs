using System.Diagnostics;

namespace OrleansPgStore.Store.Journal;

/// <summary>Carries trace context through the journal: stamped on commit, read back by reactions.</summary>
internal static class TraceContext
{
    /// <summary>The context a W3C traceparent names, or default when there is none or it does not parse.</summary>
    public static ActivityContext Parse(string? traceParent)
        => traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    /// <summary>
    /// The metadata to store: the commit's own span when traced (it is a child of any given trace parent), else a
    /// given trace parent, else the caller's current activity. Without any of them, the metadata is unchanged.
    /// </summary>
    public static EventMetadata Stamp(EventMetadata metadata, Activity? commit)
    {
        var source = commit ?? (metadata.Causation?.TraceParent is null ? Activity.Current : null);
        if (source is null || source.IdFormat != ActivityIdFormat.W3C)
        {
            return metadata;
        }

        return metadata with { Causation = (metadata.Causation ?? new EventCausation()) with { TraceParent = source.Id } };
    }
}
