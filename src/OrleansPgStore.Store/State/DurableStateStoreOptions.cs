using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.State;

/// <summary>Settings of a <see cref="DurableStateStore"/>.</summary>
internal sealed class DurableStateStoreOptions : StoreOptions
{
    /// <summary>The state table. Defaults to <c>durable_state</c>.</summary>
    public override string Table { get; set; } = "durable_state";
}
