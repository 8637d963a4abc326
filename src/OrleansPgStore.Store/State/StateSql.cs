namespace OrleansPgStore.Store.State;

/// <summary>
/// Every statement the durable-state store runs, complete, for one table. Parameters are positional: <c>$1</c> is
/// always the persistence id; an insert takes the state as <c>$2</c>, an update the state as <c>$2</c> and the expected
/// revision as <c>$3</c>, a delete the expected revision (or null) as <c>$2</c>.
/// </summary>
internal sealed class StateSql
{
    public StateSql(string table)
    {
        Load = $"SELECT revision, state::text, updated_at FROM {table} WHERE persistence_id = $1";

        Revision = $"SELECT revision FROM {table} WHERE persistence_id = $1";

        // Expected revision 0: the state must not exist yet. The primary key decides races.
        Insert = $"""
            INSERT INTO {table} (persistence_id, revision, state, updated_at)
            VALUES ($1, 1, $2::jsonb, now())
            ON CONFLICT (persistence_id) DO NOTHING
            RETURNING revision
            """;

        // Compare-and-set on the revision; a concurrent writer that got there first makes this match no row.
        Update = $"""
            UPDATE {table}
            SET revision = revision + 1, state = $2::jsonb, updated_at = now()
            WHERE persistence_id = $1 AND revision = $3
            RETURNING revision
            """;

        Delete = $"""
            DELETE FROM {table}
            WHERE persistence_id = $1 AND ($2::bigint IS NULL OR revision = $2::bigint)
            RETURNING revision
            """;
    }

    public string Load { get; }

    public string Revision { get; }

    /// <summary>$1 id, $2 state.</summary>
    public string Insert { get; }

    /// <summary>$1 id, $2 state, $3 expected revision.</summary>
    public string Update { get; }

    /// <summary>$1 id, $2 expected revision or null.</summary>
    public string Delete { get; }
}
