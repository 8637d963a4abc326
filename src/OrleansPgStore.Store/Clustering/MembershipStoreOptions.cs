using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Clustering;

/// <summary>Settings of a <see cref="MembershipStore"/>: where the membership rows and the version rows live.</summary>
internal sealed class MembershipStoreOptions : StoreOptions
{
    /// <summary>The membership table, one row per silo incarnation. Defaults to <c>orleans_membership</c>.</summary>
    public override string Table { get; set; } = "orleans_membership";

    /// <summary>The version table, one row per cluster id. Defaults to <c>orleans_membership_version</c>.</summary>
    public string VersionTable { get; set; } = "orleans_membership_version";
}
