namespace OrleansPgStore.Store.Errors;

/// <summary>
/// A forward query across streams gave up waiting for appends to its events table that were still in flight below
/// events it had already found (<c>PgStoreOptions.FeedSettleTimeout</c>). Nothing was returned past the last
/// settled event: the query is incomplete, not short. Transient: retrying once the append finishes succeeds.
/// </summary>
public sealed class FeedNotSettledException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    internal FeedNotSettledException(
        string qualifiedTable, long heldBackAt, TimeSpan waited, int? pid, string? database, long? transactionId, TimeSpan? transactionAge, string? state)
        : base(Describe(qualifiedTable, heldBackAt, waited, pid, database, transactionId, transactionAge, state), null, isTransient: true)
    {
        Table = qualifiedTable;
        HeldBackAt = heldBackAt;
        Pid = pid;
        Database = database;
        TransactionId = transactionId;
        TransactionAge = transactionAge;
    }

    /// <summary>The schema-qualified events table.</summary>
    public string Table { get; }

    /// <summary>The position of the first event the query could not return yet: an append in flight may still land below it.</summary>
    public long HeldBackAt { get; }

    /// <summary>The server process of the oldest append in flight, when it was still running at diagnosis (null: it had finished, or it is a prepared transaction).</summary>
    public int? Pid { get; }

    /// <summary>The database of that append.</summary>
    public string? Database { get; }

    /// <summary>Its transaction id (32-bit, as <c>pg_locks</c> shows it).</summary>
    public long? TransactionId { get; }

    /// <summary>How long its transaction had been open (null when <c>pg_stat_activity</c> hides it from this role).</summary>
    public TimeSpan? TransactionAge { get; }

    private static string Describe(
        string table, long heldBackAt, TimeSpan waited, int? pid, string? database, long? transactionId, TimeSpan? age, string? state)
    {
        var holder = transactionId is null
            ? "the appends in flight finished while this was diagnosed; retrying will likely succeed"
            : $"held back by transaction {transactionId} (pid {(pid is null ? "none: a prepared transaction" : pid.ToString())}, database " +
              $"'{database}', open for {(age is null ? "an unknown time (pg_stat_activity hides it from this role)" : $"{age.Value.TotalSeconds:0.###} s")}" +
              $"{(state is null ? "" : $", state '{state}'")})";
        return $"A query of the settled feed of {table} found events from position {heldBackAt} on, but an append to the table " +
               $"that may land below them was still in flight after {waited.TotalMilliseconds:0} ms (FeedSettleTimeout): {holder}. " +
               "Nothing past the settled events was returned; retry the query, or raise PgStoreOptions.FeedSettleTimeout.";
    }
}
