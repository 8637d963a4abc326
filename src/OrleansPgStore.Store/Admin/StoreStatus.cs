using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Admin;

/// <summary>What <see cref="StoreAdmin.StatusAsync"/> reports.</summary>
/// <param name="Database">The database's name.</param>
/// <param name="Tables">The events, durable-state and subscriptions tables and the subscriptions' checkpoints table.</param>
/// <param name="Events">Events in the journal (snapshots and tombstones not counted); 0 when the table is missing.</param>
/// <param name="Snapshots">Snapshots and tombstones in the journal.</param>
/// <param name="Lanes">Reaction lag per lane; empty without a subscriptions table.</param>
/// <param name="Blocked">Blocked targets, by stream, at most the number asked for.</param>
internal sealed record StoreStatus(
    string Database,
    IReadOnlyList<TableStatus> Tables,
    long Events,
    long Snapshots,
    IReadOnlyList<LaneLag> Lanes,
    IReadOnlyList<BlockedTarget> Blocked)
{
    /// <summary>Whether every table exists.</summary>
    public bool Seeded => Tables.All(t => t.Exists);
}
