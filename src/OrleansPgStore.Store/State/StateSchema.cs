namespace OrleansPgStore.Store.State;

/// <summary>The DDL of the durable-state table. Idempotent; <c>silo-config/sql/durable_state.sql</c> is this text for the defaults.</summary>
internal static class StateSchema
{
    public static string Create(string qualifiedTable) => $"""
        CREATE TABLE IF NOT EXISTS {qualifiedTable} (
            persistence_id text        NOT NULL PRIMARY KEY,
            revision       bigint      NOT NULL CHECK (revision > 0),
            state          jsonb       NOT NULL,
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        """;
}
