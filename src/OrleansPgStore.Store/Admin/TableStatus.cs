namespace OrleansPgStore.Store.Admin;

/// <summary>One of the store's tables.</summary>
/// <param name="Name">Schema-qualified name, unquoted.</param>
/// <param name="Exists">Whether the table exists.</param>
/// <param name="SizeBytes">Total size on disk with indexes and TOAST; 0 when missing.</param>
/// <param name="Rows">Exact row count; 0 when missing.</param>
internal sealed record TableStatus(string Name, bool Exists, long SizeBytes, long Rows);
