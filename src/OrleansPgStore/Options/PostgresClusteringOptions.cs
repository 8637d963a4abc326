namespace OrleansPgStore.Options;

/// <summary>
/// Settings of PostgreSQL clustering (<c>UsePostgresClustering</c>): the membership table silos keep, and clients read
/// their gateways from.
/// </summary>
/// <remarks>
/// The JSON settings inherited from <see cref="PostgresStoreOptions"/> do not apply: membership rows are columns.
/// A silo creates the tables in <c>IMembershipTable</c> initialization (before it joins) unless
/// <see cref="PostgresStoreOptions.SeedSchema"/> is off; a client never creates them.
/// </remarks>
public sealed class PostgresClusteringOptions : PostgresStoreOptions
{
    /// <summary>The membership table, one row per silo incarnation. Defaults to <c>orleans_membership</c>.</summary>
    public string MembershipTable { get; set; } = "orleans_membership";

    /// <summary>The version table, one row per cluster id. Defaults to <c>orleans_membership_version</c>.</summary>
    public string MembershipVersionTable { get; set; } = "orleans_membership_version";
}
