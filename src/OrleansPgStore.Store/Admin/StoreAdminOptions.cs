using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Admin;

/// <summary>Settings of a <see cref="StoreAdmin"/>: the database and the tables it inspects (events, durable state, subscriptions and, derived from its name, the subscriptions' checkpoints table).</summary>
internal sealed class StoreAdminOptions : StoreOptions
{
    /// <summary>The events table. Defaults to <c>events</c>.</summary>
    public override string Table { get; set; } = "events";

    /// <summary>The durable-state table. Defaults to <c>durable_state</c>.</summary>
    public string StateTable { get; set; } = "durable_state";

    /// <summary>The subscriptions table. Defaults to <c>subscriptions</c>.</summary>
    public string SubscriptionsTable { get; set; } = "subscriptions";
}
