using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// The DDL of the membership tables: a version row per cluster id, a row per silo incarnation, and the sequence both
/// draw their ETags from. Idempotent.
/// </summary>
/// <remarks>
/// ETags come from one sequence, so a value is never reused for the life of the tables: an ETag read before a cluster's
/// rows were deleted can never match a row written after. Deleting a cluster's version row deletes its members.
/// </remarks>
internal static class MembershipSchema
{
    public static string Create(string quotedSchema, string table, string versionTable)
    {
        var members = quotedSchema + "." + SqlIdentifier.Quote(table, "Table");
        var versions = quotedSchema + "." + SqlIdentifier.Quote(versionTable, "VersionTable");
        var sequence = Sequence(quotedSchema, table);
        return $"""
            CREATE SEQUENCE IF NOT EXISTS {sequence} AS bigint;
            CREATE TABLE IF NOT EXISTS {versions} (
                cluster_id  text        NOT NULL PRIMARY KEY,
                version     bigint      NOT NULL DEFAULT 0,
                etag        bigint      NOT NULL,
                updated_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE IF NOT EXISTS {members} (
                cluster_id      text        NOT NULL REFERENCES {versions} (cluster_id) ON DELETE CASCADE,
                address         text        NOT NULL,
                port            integer     NOT NULL,
                generation      integer     NOT NULL,
                silo_name       text,
                host_name       text,
                status          integer     NOT NULL,
                proxy_port      integer     NOT NULL,
                role_name       text,
                update_zone     integer     NOT NULL DEFAULT 0,
                fault_zone      integer     NOT NULL DEFAULT 0,
                suspect_times   jsonb,
                start_time      timestamptz NOT NULL,
                i_am_alive_time timestamptz NOT NULL,
                etag            bigint      NOT NULL,
                PRIMARY KEY (cluster_id, address, port, generation)
            );
            """;
    }

    /// <summary>The schema-qualified, quoted ETag sequence of <paramref name="table"/>.</summary>
    public static string Sequence(string quotedSchema, string table)
        => quotedSchema + "." + SqlIdentifier.Quote(SqlIdentifier.Derive(table, "etag_seq"), "Sequence");
}
