using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Leasing;

/// <summary>Settings of a <see cref="LeaseStore"/>.</summary>
public sealed class LeaseStoreOptions : StoreOptions
{
    /// <summary>The subscriptions table (one row per target stream). Defaults to <c>subscriptions</c>.</summary>
    public override string Table { get; set; } = "subscriptions";

    /// <summary>
    /// Whether the reaction loop's lease writes (claims, acks, blocks, work marks, checkpoints) wait for their WAL flush.
    /// Defaults to false: they commit asynchronously, which halves their latency and keeps handlers running while the
    /// disk catches up. This is safe because delivery is at least once anyway: a server crash can forget the lease
    /// writes of its last moments (by default up to 3 × <c>wal_writer_delay</c>, 600 ms), which only means some
    /// targets are claimed and handled again, at once: a loop claims its own left-over leases again, and discovery
    /// refuses to advance from a position the crash took back. It never loses or skips an event, and events themselves, durable states
    /// and operator actions (subscribe, unblock, reset, defer, prioritize) always commit durably. Set it to true to
    /// keep the server's <c>synchronous_commit</c>.
    /// </summary>
    public bool SynchronousCommit { get; set; }
}
