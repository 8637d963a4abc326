using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Schema;

/// <summary>
/// The checkpoints table that belongs to a subscriptions table (its DDL: <c>Leasing/CheckpointSchema</c>): its name and
/// the keys of its rows. Here rather than in <c>Leasing</c> because retention (<c>Journal</c>) reads the discovery
/// checkpoints too, and <c>Leasing</c> already depends on <c>Journal</c>.
/// </summary>
internal static class CheckpointTable
{
    /// <summary>The key prefix of a reaction group's discovery checkpoint: <c>discovery:{group}</c>.</summary>
    public const string DiscoveryPrefix = "discovery:";

    /// <summary>The key prefix of an events table's retention turn: <c>retention:{events table}</c>.</summary>
    public const string RetentionPrefix = "retention:";

    /// <summary>The checkpoints table's name, derived from the subscriptions table's (unquoted).</summary>
    public static string Name(string subscriptionsTable) => SqlIdentifier.Derive(subscriptionsTable, "checkpoints");
}
