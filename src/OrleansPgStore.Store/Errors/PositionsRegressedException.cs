namespace OrleansPgStore.Store.Errors;

/// <summary>
/// The events table holds positions at or above those this server's transaction ids would give new events: the
/// database was restored into another cluster (pg_dump/pg_restore, a logical-replication move). Appending now would
/// put new events below stored ones, where consumers past them would never see them, so nothing is appended until the
/// positions are rebased (<c>orleanspgstore positions rebase</c>, or <c>JournalStore.RebasePositionsAsync</c>).
/// </summary>
public sealed class PositionsRegressedException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    internal PositionsRegressedException(string operation, string qualifiedTable, long storedTransaction, long nextTransaction)
        : base(
            $"{operation} refused: the newest position stored in {qualifiedTable} belongs to transaction {storedTransaction} " +
            $"(offset included), but this server's next transaction maps to {nextTransaction}: the database was restored into " +
            "another cluster, and new events would land below stored ones, unseen by consumers past them. Rebase the positions " +
            "once, then retry: run 'orleanspgstore positions rebase' (or call JournalStore.RebasePositionsAsync()) with a " +
            "role that may update the table's positions table. See docs/operations.md, \"After a restore\".")
    {
        Operation = operation;
        Table = qualifiedTable;
        StoredTransaction = storedTransaction;
        NextTransaction = nextTransaction;
    }

    /// <summary>The operation that was refused.</summary>
    public string Operation { get; }

    /// <summary>The schema-qualified events table.</summary>
    public string Table { get; }

    /// <summary>The transaction part (<c>position &gt;&gt; 20</c>) of the newest stored position.</summary>
    public long StoredTransaction { get; }

    /// <summary>The transaction part the next append would get.</summary>
    public long NextTransaction { get; }
}
