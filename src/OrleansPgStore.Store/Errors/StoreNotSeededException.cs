namespace OrleansPgStore.Store.Errors;

/// <summary>The store's table does not exist: <c>SeedAsync</c> was never called for this schema and table.</summary>
public sealed class StoreNotSeededException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    internal StoreNotSeededException(string operation, string qualifiedTable, Exception? innerException)
        : base(
            $"{operation} failed: table {qualifiedTable} does not exist. Call SeedAsync() on the store once " +
            "(or apply the schema SQL) before using it.",
            innerException)
    {
        Operation = operation;
        Table = qualifiedTable;
    }

    /// <summary>The operation that failed.</summary>
    public string Operation { get; }

    /// <summary>The schema-qualified table that is missing.</summary>
    public string Table { get; }
}
