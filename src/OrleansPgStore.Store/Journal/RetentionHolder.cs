namespace OrleansPgStore.Store.Journal;

/// <summary>A subscription that keeps events from retention because it has not passed them yet.</summary>
/// <param name="Table">The table it is in: a subscriptions table, or for a checkpoint that table's checkpoints table.</param>
/// <param name="Subscription">
/// The target stream, or the reaction group's discovery checkpoint (<c>discovery:{group}</c> in the checkpoints table;
/// <c>$checkpoint:{group}</c> in a subscriptions table of an older release not seeded since).
/// </param>
/// <param name="Watermark">The position it has passed (-1: nothing yet); every later event it may read is kept.</param>
/// <param name="Blocked">Whether the target is blocked (see <see cref="RetentionRun.IgnoreBlockedTargets"/>).</param>
internal sealed record RetentionHolder(string Table, string Subscription, long Watermark, bool Blocked);
