using Orleans.EventSourcing.Common;

namespace OrleansPgStore.EventSourcing;

/// <summary>A raised event waiting to be written, with the id it keeps across every retry of its write.</summary>
internal sealed class PostgresSubmissionEntry<TLogEntry> : SubmissionEntry<TLogEntry>
{
    /// <summary>The event's id in the journal; a retry that finds it stored appends nothing.</summary>
    public Guid EventId { get; } = Guid.CreateVersion7();
}
