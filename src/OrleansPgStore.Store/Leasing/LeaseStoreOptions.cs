using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Leasing;

/// <summary>Settings of a <see cref="LeaseStore"/>.</summary>
public sealed class LeaseStoreOptions : StoreOptions
{
    /// <summary>The subscriptions table (one row per target stream). Defaults to <c>subscriptions</c>.</summary>
    public override string Table { get; set; } = "subscriptions";
}
