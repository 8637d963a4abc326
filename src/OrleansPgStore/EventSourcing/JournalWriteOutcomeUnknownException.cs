using Orleans;
using Orleans.Runtime;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// A JournaledGrain's events may or may not have been committed: an attempt reached the database and its connection
/// was lost before the answer came back, and the database stayed unreachable for <c>WriteRetryTimeout</c>, so the
/// outcome could not be looked up by event id. The events have left the grain's queue and are never sent again; once
/// the database is back, <c>RefreshNow</c> (or a new activation) shows whether they are in the stream.
/// </summary>
/// <remarks>Every other failure of a confirm means the events were not committed and never will be.</remarks>
[GenerateSerializer]
public sealed class JournalWriteOutcomeUnknownException : OrleansException
{
    /// <summary>Creates the exception.</summary>
    public JournalWriteOutcomeUnknownException(string message, GrainId grainId, string stream, IReadOnlyList<Guid> eventIds)
        : base(message)
    {
        GrainId = grainId;
        Stream = stream;
        EventIds = eventIds.ToArray();
    }

    /// <summary>The grain whose events these are.</summary>
    [Id(0)]
    public GrainId GrainId { get; private set; }

    /// <summary>The grain's stream in the journal.</summary>
    [Id(1)]
    public string Stream { get; private set; }

    /// <summary>The ids the events carry in the journal (its <c>event_id</c> column): look them up to settle the outcome.</summary>
    [Id(2)]
    public IReadOnlyList<Guid> EventIds { get; private set; }
}
