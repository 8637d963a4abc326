using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    // PostgreSQL aborts the transaction on a NOTIFY payload of 8000 bytes or more, so the statement measures
    // the payload itself and skips the notification (polling still finds the commit).
    internal const string NotifySql = "SELECT pg_notify($1, $2) WHERE octet_length($2) < 8000";

    /// <summary>Identifies this store instance in notifications, so a process ignores its own commits' echoes.</summary>
    internal string InstanceId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The LISTEN/NOTIFY channel of this events table.</summary>
    internal string Channel => SqlIdentifier.Derive("opgs_" + _store.Schema + "_" + _store.Table, "commits");

    /// <summary>
    /// Raised after every successful commit made through this instance (synchronously, on the committing thread;
    /// handlers must be quick). Remote commits arrive through <see cref="CreateCommitListener"/>.
    /// </summary>
    internal event Action<CommitNotification>? Committed;

    /// <summary>
    /// A listener for commits made by other processes (requires <c>PgStoreOptions.NotifyOnCommit</c> on
    /// the writers). It holds one connection, heals itself after a lost connection with capped backoff, and skips
    /// this instance's own notifications.
    /// </summary>
    internal CommitListener CreateCommitListener(Action<CommitNotification> onCommit)
        => new(_store.DataSource, Channel, InstanceId, onCommit, _logger);

    /// <summary>
    /// The stream name of notifications that announce new work found by a reaction worker (not a commit): it wakes
    /// the other workers so they compete for that work.
    /// </summary>
    internal const string WorkAnnouncement = "$work";

    /// <summary>
    /// The NOTIFY that announces new work to the reaction workers of other processes, for a reaction loop to send in the
    /// transaction that raises the work marks (delivered at commit); <c>null</c> when <c>PgStoreOptions.NotifyOnCommit</c>
    /// is off. The workers of this process are woken by <see cref="AnnounceWorkLocally"/> instead: listeners skip their
    /// own instance's notifications.
    /// </summary>
    internal Notification? WorkNotification => _options.NotifyOnCommit
        ? new Notification(Channel, JsonSerializer.Serialize(new NotificationPayload(WorkAnnouncement, InstanceId), JournalJsonContext.Default.NotificationPayload))
        : null;

    /// <summary>Wakes the reaction workers of this process for new work (after the marks committed).</summary>
    internal void AnnounceWorkLocally() => RaiseCommitted(WorkAnnouncement);

    /// <summary>The data source the journal (and its commit listeners) use.</summary>
    internal NpgsqlDataSource DataSource => _store.DataSource;

    /// <summary>
    /// Wakes the other reaction workers: those of this process directly (<see cref="Committed"/>), those of other
    /// processes through NOTIFY when <c>PgStoreOptions.NotifyOnCommit</c> is on. Best effort: a failure
    /// is logged, and polling finds the work anyway.
    /// </summary>
    internal async Task AnnounceWorkAsync(CancellationToken cancellationToken = default)
    {
        RaiseCommitted(WorkAnnouncement);
        if (!_options.NotifyOnCommit)
        {
            return;
        }

        try
        {
            var payload = JsonSerializer.Serialize(new NotificationPayload(WorkAnnouncement, InstanceId), JournalJsonContext.Default.NotificationPayload);
            await using var prepared = await _store.PrepareAsync(NotifySql, cancellationToken,
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = Channel },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = payload }).ConfigureAwait(false);
            await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.AnnounceFailed(e);
        }
    }

    /// <summary>Closes the pool's idle connections (after the server dropped one, the others are likely gone too).</summary>
    internal void ClearIdleConnections() => _store.DataSource.Clear();

    private void RaiseCommitted(string stream) => Committed?.Invoke(new CommitNotification(stream, Local: true));

    /// <summary>Runs a commit statement, together with its NOTIFY in the same implicit transaction when enabled.</summary>
    private async Task<T> ExecuteCommitAsync<T>(
        string stream, string sql, NpgsqlParameter[] parameters, Func<NpgsqlDataReader, Task<T>> read, CancellationToken cancellationToken)
    {
        if (!_options.NotifyOnCommit)
        {
            await using var prepared = await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await read(reader).ConfigureAwait(false);
        }

        var payload = JsonSerializer.Serialize(new NotificationPayload(stream, InstanceId), JournalJsonContext.Default.NotificationPayload);
        await using var batch = await _store.PrepareBatchAsync(cancellationToken,
            (sql, parameters),
            (NotifySql,
            [
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = Channel },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = payload },
            ])).ConfigureAwait(false);
        await using var batchReader = await batch.Batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await read(batchReader).ConfigureAwait(false);
    }
}

/// <summary>The NOTIFY payload: which stream, and which store instance committed.</summary>
internal sealed record NotificationPayload(string Stream, string By);
