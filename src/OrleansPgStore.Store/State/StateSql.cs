namespace OrleansPgStore.Store.State;

/// <summary>Every statement the durable-state store runs, complete, for one table.</summary>
internal sealed class StateSql
{
    public StateSql(string table)
    {
        Load = $"SELECT revision, state::text, updated_at FROM {table} WHERE persistence_id = @id";

        Revision = $"SELECT revision FROM {table} WHERE persistence_id = @id";

        // Expected revision 0: the state must not exist yet. The primary key decides races.
        Insert = $"""
            INSERT INTO {table} (persistence_id, revision, state, updated_at)
            VALUES (@id, 1, @state::jsonb, now())
            ON CONFLICT (persistence_id) DO NOTHING
            RETURNING revision
            """;

        // Compare-and-set on the revision; a concurrent writer that got there first makes this match no row.
        Update = $"""
            UPDATE {table}
            SET revision = revision + 1, state = @state::jsonb, updated_at = now()
            WHERE persistence_id = @id AND revision = @expected
            RETURNING revision
            """;

        Delete = $"""
            DELETE FROM {table}
            WHERE persistence_id = @id AND (@expected::bigint IS NULL OR revision = @expected::bigint)
            RETURNING revision
            """;
    }

    public string Load { get; }

    public string Revision { get; }

    public string Insert { get; }

    public string Update { get; }

    public string Delete { get; }
}
