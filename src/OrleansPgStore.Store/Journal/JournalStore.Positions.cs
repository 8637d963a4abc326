using Npgsql;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    // Set once the table's positions were found sound on this server; until then every write checks first (one
    // round trip), so a store refuses appends after a restore and resumes by itself once the positions are rebased.
    private volatile bool _positionsSound;

    // The table's offset was 0 at the last check: commits use the statements that do not read it (see JournalSql).
    private volatile bool _offsetIsZero;

    /// <summary>The statements commits run: without the offset read while it is known to be 0.</summary>
    private JournalSql Commits => _positionsSound && _offsetIsZero ? _sqlAtZeroOffset : _sql;

    /// <summary>After a failed write: check the positions (and read the offset) again before the next one.</summary>
    private void RecheckPositions() => _positionsSound = false;

    /// <summary>
    /// Throws <see cref="PositionsRegressedException"/> when new events would get positions at or below stored ones
    /// (the database was restored into another cluster); checked once per store instance, before its first write.
    /// </summary>
    /// <param name="operation">What is about to write, e.g. "Commit to stream"; named in the error with <paramref name="stream"/>.</param>
    /// <param name="stream">The stream written, if any.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    private ValueTask EnsurePositionsAsync(string operation, string? stream, CancellationToken cancellationToken)
        => _positionsSound
            ? ValueTask.CompletedTask
            : new ValueTask(CheckPositionsAsync(stream is null ? operation : $"{operation} '{InputChecks.Shorten(stream)}'", cancellationToken));

    private async Task CheckPositionsAsync(string operation, CancellationToken cancellationToken)
    {
        bool regressed;
        long stored, next;
        try
        {
            await using var command = _store.CreateCommand(_sql.PositionsCheck);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The positions table {_positionsTable} has no row; seed the journal again (SeedAsync) to restore it.");
            }

            (regressed, stored, next) = (reader.GetBoolean(0), reader.GetInt64(1), reader.GetInt64(2));
            _offsetIsZero = reader.GetInt64(3) == 0;
        }
        catch (Exception e)
        {
            throw _store.Translate(operation, e);
        }

        if (regressed)
        {
            _logger.PositionsRegressed(_store.QualifiedTable, stored, next);
            throw new PositionsRegressedException(operation, _store.QualifiedTable, stored, next);
        }

        _positionsSound = true;
    }

    /// <summary>
    /// After the database was restored into another cluster (pg_dump/pg_restore, a logical-replication move), whose
    /// transaction ids are lower than the old server's: raises the table's position offset so that every event
    /// appended from now on gets a position above every stored one, and consumers past the old positions see them.
    /// Does nothing when positions have not regressed. Idempotent; needs UPDATE on the table's positions table.
    /// </summary>
    /// <remarks>
    /// Run it once after the restore, before the application appends (appends are refused with
    /// <see cref="PositionsRegressedException"/> until then). The CLI runs it as <c>orleanspgstore positions rebase</c>.
    /// </remarks>
    internal async Task<PositionRebase> RebasePositionsAsync(CancellationToken cancellationToken = default)
    {
        var operation = StoreOperation.Start("journal.rebase_positions", _store);
        try
        {
            await using var command = _store.CreateCommand(_sql.RebasePositions);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The positions table {_positionsTable} has no row; seed the journal again (SeedAsync) to restore it.");
            }

            var rebase = new PositionRebase(reader.GetInt64(0), reader.GetInt64(1));
            operation.Succeeded();
            if (rebase.Changed)
            {
                _logger.PositionsRebased(_store.QualifiedTable, rebase.PreviousOffset, rebase.Offset);
            }

            _positionsSound = false; // check again before the next write, against the new offset
            return rebase;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, $"Rebasing the positions of {_store.QualifiedTable}", e);
        }
    }
}
