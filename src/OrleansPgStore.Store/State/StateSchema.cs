using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.State;

/// <summary>The DDL of the durable-state table. Idempotent; <c>silo-config/sql/durable_state.sql</c> is this text for the defaults.</summary>
internal static class StateSchema
{
    public static readonly IReadOnlyList<TableColumn> Columns =
    [
        new("persistence_id", "text", "NOT NULL PRIMARY KEY"),
        new("revision", "bigint", "NOT NULL CHECK (revision > 0)"),
        new("state", "jsonb", "NOT NULL"),
        new("updated_at", "timestamptz", "NOT NULL DEFAULT now()"),
    ];

    /// <summary>Creates the table, or brings one created by an older release up to date.</summary>
    public static string Create(string qualifiedTable) => $"""
        {TableColumns.CreateTable(qualifiedTable, Columns)}
        {TableColumns.AddMissing(qualifiedTable, Columns)}
        """;
}
