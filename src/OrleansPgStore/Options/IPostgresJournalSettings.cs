using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Options;

/// <summary>How JournaledGrains map onto the events table: stream names, snapshots and event type names.</summary>
internal interface IPostgresJournalSettings
{
    /// <summary>
    /// Put in front of every stream name: a grain's stream is <c>{StreamPrefix}{grainType}/{grainKey}</c>
    /// (<see cref="Orleans.Runtime.GrainId"/>'s text form). Defaults to empty. Give each service that shares a
    /// schema its own prefix (or its own schema).
    /// </summary>
    string StreamPrefix { get; set; }

    /// <summary>
    /// Store a snapshot of a grain's state after every this many events, so activation reads the newest snapshot
    /// plus at most this many events, however long the history. Defaults to 100; 0 turns snapshots off.
    /// </summary>
    int SnapshotInterval { get; set; }

    /// <summary>
    /// Per grain type overrides of <see cref="SnapshotInterval"/>, keyed by the Orleans grain type (e.g.
    /// <c>account</c>, as in <see cref="Orleans.Runtime.GrainType"/>) or the grain class's full CLR name.
    /// </summary>
    Dictionary<string, int> SnapshotIntervals { get; }

    /// <summary>
    /// Names under which event types are stored, taking precedence over <c>[Alias]</c> and the full type name.
    /// A stored name must never change once events carry it; a type may be renamed freely.
    /// </summary>
    Dictionary<Type, string> TypeNames { get; }

    /// <summary>
    /// Upcasters applied to stored events before they are deserialized, on every read path (activation,
    /// <c>RetrieveConfirmedEvents</c>, and queries and reactions that read through <c>JournalEventSerializer</c>).
    /// Empty by default; set in code.
    /// </summary>
    EventUpcasters Upcasters { get; }

    /// <summary>
    /// How long reading a JournaledGrain's stream keeps retrying transient failures (server down, connection lost)
    /// before it fails the activation or refresh with a transient <c>OrleansPgStoreException</c> naming the stream.
    /// Defaults to 15 seconds, below Orleans' 30 second call timeout. Silo shutdown stops a retrying read at once.
    /// </summary>
    TimeSpan ReadRetryTimeout { get; set; }

    /// <summary>
    /// How long committing a JournaledGrain's events keeps retrying transient failures (server down, connection lost)
    /// before <c>ConfirmEvents</c> (or <c>RefreshNow</c>) fails with a transient error naming the grain and the stream;
    /// the events then leave the grain's queue and are never retried. Defaults to 10 seconds, well below Orleans' 30
    /// second call timeout, so the caller hears what failed instead of a bare timeout. Silo shutdown stops a retrying
    /// write at once.
    /// </summary>
    TimeSpan WriteRetryTimeout { get; set; }
}
