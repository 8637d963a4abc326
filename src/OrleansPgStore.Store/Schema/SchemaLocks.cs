namespace OrleansPgStore.Store.Schema;

/// <summary>
/// Transaction-scoped advisory locks that make concurrent seeding safe. Seeding locks the schema first
/// (creating a schema concurrently races on the catalog's unique index), then the table.
/// </summary>
internal static class SchemaLocks
{
    // The two-key form keeps our locks in their own key space, apart from an application's int8 locks.
    private const int SchemaLockClass = 0x4F505331; // "OPS1"
    private const int TableLockClass = 0x4F505332;  // "OPS2"

    /// <summary>SQL that takes both locks; <c>@schema</c> and <c>@table</c> are parameters.</summary>
    public static readonly string LockSchemaThenTable =
        $"""
        SELECT pg_advisory_xact_lock({SchemaLockClass}, hashtext(@schema));
        SELECT pg_advisory_xact_lock({TableLockClass}, hashtext(@schema || '.' || @table));
        """;
}
