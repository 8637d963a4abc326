using Microsoft.Extensions.Logging;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Saves one grain's snapshots in the background, so that confirming events never waits for a snapshot.
/// </summary>
/// <remarks>
/// <para>The adaptor hands over the snapshot already serialized, at the moment its view was at that version, so the
/// stored state always matches the version it is stored at; the grain may go on changing its view meanwhile.</para>
/// <para>At most one save runs at a time. A snapshot handed over while one is being saved waits; a newer one replaces
/// it (a snapshot is only an optimization, the newest is the useful one). A failed save is logged, never retried.</para>
/// <para>Thread-safe: saves run on the thread pool, off the grain's scheduler (they never call grain code).</para>
/// </remarks>
internal sealed partial class SnapshotWriter
{
    private readonly JournalStore _journal;
    private readonly string _stream;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private (long StreamVersion, string Json)? _next;
    private Task _saving = Task.CompletedTask;
    private bool _running;

    // Counts the grain's clears: a save that fails after a clear overtook it is expected, not worth a Warning.
    private int _clears;

    public SnapshotWriter(JournalStore journal, string stream, ILogger logger)
    {
        _journal = journal;
        _stream = stream;
        _logger = logger;
    }

    /// <summary>Queues the snapshot for saving and returns at once.</summary>
    public void Enqueue(long streamVersion, string json)
    {
        lock (_lock)
        {
            _next = (streamVersion, json);
            if (!_running)
            {
                _running = true;
                _saving = Task.Run(SaveQueuedAsync);
            }
        }
    }

    /// <summary>
    /// Called before the grain's log is cleared: drops the snapshot waiting to be saved (it covers events about to be
    /// cleared). A save already running is ordered with the truncation by the journal: it lands before it (and is
    /// truncated away) or is refused after it, and that refusal is logged at Debug only.
    /// </summary>
    public void Clearing()
    {
        lock (_lock)
        {
            _next = null;
            _clears++;
        }
    }

    /// <summary>Completes when nothing is queued or being saved (deactivation waits for it; it never throws).</summary>
    public Task WhenIdleAsync()
    {
        lock (_lock)
        {
            return _saving;
        }
    }

    private async Task SaveQueuedAsync()
    {
        while (true)
        {
            (long StreamVersion, string Json) snapshot;
            int clears;
            lock (_lock)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }

                snapshot = _next.Value;
                _next = null;
                clears = _clears;
            }

            try
            {
                await _journal.SaveSnapshotAsync(_stream, snapshot.StreamVersion, snapshot.Json).ConfigureAwait(false);
            }
            catch (Exception e) when (ClearedSince(clears))
            {
                // The grain cleared its log meanwhile: the journal refuses a snapshot of cleared events, as it should.
                LogSnapshotOvertaken(_logger, _stream, snapshot.StreamVersion, e.Message);
            }
            catch (Exception e)
            {
                // Only an optimization: activation replays more events until the next snapshot.
                LogSnapshotFailed(_logger, e, _stream, snapshot.StreamVersion);
            }
        }
    }

    private bool ClearedSince(int clears)
    {
        lock (_lock)
        {
            return _clears != clears;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The snapshot of stream {Stream} at version {Version} was not stored: the grain cleared its log meanwhile ({Reason})")]
    private static partial void LogSnapshotOvertaken(ILogger logger, string stream, long version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saving a snapshot of stream {Stream} at version {Version} failed; activation replays more events until the next one")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, string stream, long version);
}
