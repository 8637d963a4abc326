namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// Every statement the membership store runs, complete. Parameters are positional; <c>$1</c> is always the cluster id,
/// and a row is keyed by <c>$2</c> address, <c>$3</c> port, <c>$4</c> generation.
/// </summary>
internal sealed class MembershipSql
{
    private const string Columns =
        "m.address, m.port, m.generation, m.silo_name, m.host_name, m.status, m.proxy_port, m.role_name, m.update_zone, m.fault_zone, " +
        "m.suspect_times::text, m.start_time, m.i_am_alive_time, m.etag";

    public MembershipSql(string members, string versions, string sequence)
    {
        // The LEFT JOIN returns the version even when the cluster has no member (yet): rows and version in one snapshot.
        ReadAll = $"""
            SELECT v.version, v.etag, {Columns}
            FROM {versions} v LEFT JOIN {members} m ON m.cluster_id = v.cluster_id
            WHERE v.cluster_id = $1
            """;

        ReadRow = $"""
            SELECT v.version, v.etag, {Columns}
            FROM {versions} v LEFT JOIN {members} m
                ON m.cluster_id = v.cluster_id AND m.address = $2 AND m.port = $3 AND m.generation = $4
            WHERE v.cluster_id = $1
            """;

        InitVersion = $"""
            INSERT INTO {versions} (cluster_id, version, etag) VALUES ($1, 0, nextval('{sequence}'))
            ON CONFLICT (cluster_id) DO NOTHING
            RETURNING etag
            """;

        // The version row is the cluster's write lock: every insert and update bumps it under its expected ETag, so
        // concurrent writers serialize on it and all but one see the ETag moved. The row gets the version's new ETag.
        // One statement: an insert that races another of the same incarnation fails on the key, bump and all.
        // $15 new version, $16 expected version ETag.
        Insert = $"""
            WITH bumped AS (
                UPDATE {versions} SET version = $15, etag = nextval('{sequence}'), updated_at = now()
                WHERE cluster_id = $1 AND etag = $16
                  AND NOT EXISTS (SELECT 1 FROM {members} WHERE cluster_id = $1 AND address = $2 AND port = $3 AND generation = $4)
                RETURNING etag)
            INSERT INTO {members} (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port, role_name,
                                   update_zone, fault_zone, suspect_times, start_time, i_am_alive_time, etag)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, bumped.etag FROM bumped
            RETURNING etag
            """;

        // As Insert, and the row must still carry the ETag the caller read. $17 expected row ETag. The row is locked
        // first (FOR UPDATE re-checks its ETag after any wait), so it cannot vanish between the version bump and its
        // own update: one statement, both or neither.
        Update = $"""
            WITH target AS (
                SELECT 1 FROM {members}
                WHERE cluster_id = $1 AND address = $2 AND port = $3 AND generation = $4 AND etag = $17
                FOR UPDATE),
            bumped AS (
                UPDATE {versions} SET version = $15, etag = nextval('{sequence}'), updated_at = now()
                WHERE cluster_id = $1 AND etag = $16 AND EXISTS (SELECT 1 FROM target)
                RETURNING etag)
            UPDATE {members} m
            SET silo_name = $5, host_name = $6, status = $7, proxy_port = $8, role_name = $9, update_zone = $10,
                fault_zone = $11, suspect_times = $12::jsonb, start_time = $13, i_am_alive_time = $14, etag = bumped.etag
            FROM bumped
            WHERE m.cluster_id = $1 AND m.address = $2 AND m.port = $3 AND m.generation = $4
            RETURNING m.etag
            """;

        // A dirty write: neither the row's ETag nor the table version changes. $5 the time.
        IAmAlive = $"""
            UPDATE {members} SET i_am_alive_time = $5
            WHERE cluster_id = $1 AND address = $2 AND port = $3 AND generation = $4
            """;

        // $2 the status that is kept whatever its age (Active), $3 the cut-off.
        DeleteDefunct = $"""
            DELETE FROM {members}
            WHERE cluster_id = $1 AND status <> $2 AND greatest(i_am_alive_time, start_time) < $3
            """;

        // The members go with their version row (ON DELETE CASCADE).
        DeleteCluster = $"DELETE FROM {versions} WHERE cluster_id = $1";

        // $2 the status of a silo that accepts clients (Active).
        Gateways = $"""
            SELECT address, proxy_port, generation FROM {members}
            WHERE cluster_id = $1 AND status = $2 AND proxy_port > 0
            """;
    }

    public string ReadAll { get; }

    public string ReadRow { get; }

    public string InitVersion { get; }

    public string Insert { get; }

    public string Update { get; }

    public string IAmAlive { get; }

    public string DeleteDefunct { get; }

    public string DeleteCluster { get; }

    public string Gateways { get; }
}
