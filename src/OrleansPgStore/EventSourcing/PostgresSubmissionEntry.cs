using Orleans.EventSourcing.Common;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>A raised event waiting to be written, with the id it keeps across every retry of its write.</summary>
internal sealed class PostgresSubmissionEntry<TLogEntry> : SubmissionEntry<TLogEntry>
    where TLogEntry : class
{
    /// <summary>The raised event. Orleans types <see cref="SubmissionEntry{T}.Entry"/> as nullable, but every entry is
    /// made from a raised event, and RaiseEvent refuses null.</summary>
    public TLogEntry Event => Entry ?? throw new InvalidOperationException("A submitted entry holds no event.");

    /// <summary>The event's id in the journal; a retry that finds it stored appends nothing.</summary>
    public Guid EventId { get; } = Guid.CreateVersion7();

    /// <summary>Correlation, causation and trace context of the call that raised the event.</summary>
    public EventMetadata Metadata { get; init; } = EventMetadata.None;

    /// <summary>How many events the activation had raised before this one: tells a confirm which failures are its own.</summary>
    public long Sequence { get; init; }
}
