using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.EventSourcing;
using Orleans.EventSourcing.Common;
using Orleans.Runtime;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// The log view of one JournaledGrain activation, persisted as the grain's stream in the events table.
/// </summary>
/// <remarks>
/// <para><b>Versions.</b> The grain's version <c>g</c> counts its confirmed events since the log was last cleared;
/// the stream's versions never restart. Grain event <c>g</c> is stored at stream version <c>base + g</c>. The base is
/// 0 until the first clear; a clear leaves a tombstone at the stream's last version <c>L</c>, making the base
/// <c>L + 1</c>. Snapshots store <c>g</c> beside the state, so loading from a snapshot at stream version <c>s</c>
/// gives <c>base = s + 1 - g</c>.</para>
/// <para><b>Writes.</b> A batch commits with the stream version it expects to follow. Every event keeps one id
/// across all retries of its write, so when the outcome of a commit is unknown (connection lost) the retry returns
/// the stored events instead of appending them again. A conflict reloads the stream and reports 0 written, and the
/// base class re-submits the batch on top of the newer state.</para>
/// <para><b>Threading.</b> Runs on the grain's scheduler: awaits deliberately keep the grain context (no
/// <c>ConfigureAwait(false)</c>) because applying events calls into grain code.</para>
/// </remarks>
internal sealed partial class PostgresLogViewAdaptor<TLogView, TLogEntry>
    : PrimaryBasedLogViewAdaptor<TLogView, TLogEntry, PostgresSubmissionEntry<TLogEntry>>,
      ILogViewAdaptor<TLogView, TLogEntry>
    where TLogView : class, new()
    where TLogEntry : class
{
    private readonly JournalContext _context;
    private readonly string _stream;
    private readonly int _snapshotInterval;
    private readonly SnapshotWriter _snapshots;

    // Set from the base constructor (InitializeConfirmedView) before this constructor's body runs.
    private TLogView _view = null!;
    private int _version;
    private long _baseVersion;

    // A load that failed for good (an event or snapshot that cannot be read), until a load succeeds.
    private ExceptionDispatchInfo? _loadFailure;

    // The activation's first read, and whether anyone has synchronized since (see Synchronize).
    private Task? _firstRead;
    private bool _synchronized;

    public PostgresLogViewAdaptor(
        ILogViewAdaptorHost<TLogView, TLogEntry> host,
        TLogView initialState,
        ILogConsistencyProtocolServices services,
        JournalContext context,
        string stream,
        int snapshotInterval)
        : base(host, initialState, services)
    {
        _context = context;
        _stream = stream;
        _snapshotInterval = snapshotInterval;
        _snapshots = new SnapshotWriter(context.Journal, stream, context.Logger);
    }

    /// <summary>
    /// Waits until the view is refreshed from the journal, and fails if it could not be read.
    /// </summary>
    /// <remarks>
    /// <para>Orleans 10 runs the grain lifecycle, whose post-activation step starts the first read without awaiting it,
    /// before <c>OnActivateAsync</c> calls this. The base class then waits for a cycle that no longer reads, and a
    /// first read that failed would go unnoticed: the grain would serve an empty state. Re-implementing the
    /// interface method lets that failure fail the activation (and every later synchronization) instead.</para>
    /// <para>The activation's own synchronization does not read the stream again: the post-activation step has just
    /// started the first read, which sees everything committed before the activation, so it waits for that read.
    /// Orleans' base class would queue a second full read behind it, doubling what an activation costs.</para>
    /// </remarks>
    public new async Task Synchronize()
    {
        if (!_synchronized && _firstRead is { } firstRead)
        {
            _synchronized = true;
            try
            {
                await firstRead;
            }
            catch (Exception) when (_loadFailure is not null)
            {
                // Rethrown below, as after any other read.
            }
        }
        else
        {
            _synchronized = true;
            await base.Synchronize();
        }

        _loadFailure?.Throw();
    }

    /// <summary>Waits for the work in flight, then for the snapshot being saved, so a deactivated grain leaves no save behind.</summary>
    public override async Task PostOnDeactivate()
    {
        await base.PostOnDeactivate();
        await _snapshots.WhenIdleAsync();
    }

    /// <summary>How many reads or writes in a row have failed; the issue was recorded just before this is read.</summary>
    private int ConsecutiveFailures => LastPrimaryIssue.Issue?.NumberOfConsecutiveFailures ?? 0;

    /// <summary>The stream version of the last confirmed event (or of the tombstone; -1 for an empty stream).</summary>
    private long LastStreamVersion => _baseVersion + _version - 1;

    /// <inheritdoc/>
    public override async Task<IReadOnlyList<TLogEntry>> RetrieveLogSegment(int fromVersion, int toVersion)
    {
        // The grain checked 0 <= from <= to <= Version; toVersion is exclusive.
        var baseVersion = _baseVersion;
        var segment = new List<TLogEntry>(toVersion - fromVersion);
        try
        {
            await foreach (var e in _context.Journal.ReadStreamAsync(_stream, baseVersion + fromVersion, baseVersion + toVersion))
            {
                if (e.Version != baseVersion + fromVersion + segment.Count)
                {
                    break;
                }

                segment.Add(Deserialize(e));
            }
        }
        catch (OrleansPgStoreException e)
        {
            throw Failure($"Reading events {fromVersion}..{toVersion} of {Services.GrainId} from stream '{_stream}'", e);
        }

        if (segment.Count != toVersion - fromVersion)
        {
            throw new InvalidOperationException(
                $"Events {fromVersion + segment.Count}..{toVersion} of {Services.GrainId} (stream '{_stream}', versions from " +
                $"{baseVersion + fromVersion + segment.Count}) are no longer stored: retention removed them behind a snapshot.");
        }

        return segment;
    }

    /// <inheritdoc/>
    protected override void InitializeConfirmedView(TLogView initialstate)
    {
        // Called by the base constructor and after a clear; the base version is left to ClearPrimaryLogAsync.
        _view = initialstate;
        _version = 0;
    }

    /// <inheritdoc/>
    protected override TLogView LastConfirmedView() => _view;

    /// <inheritdoc/>
    protected override int GetConfirmedVersion() => _version;

    /// <inheritdoc/>
    protected override PostgresSubmissionEntry<TLogEntry> MakeSubmissionEntry(TLogEntry entry)
        => new() { Entry = entry, Metadata = JournalRequestContext.Capture() };

    /// <inheritdoc/>
    /// <remarks>
    /// Transient failures are retried with the base class's backoff for at most <c>ReadRetryTimeout</c>, and not at
    /// all once the silo stops; then the read fails with a transient <see cref="OrleansPgStoreException"/> naming the
    /// stream, which fails the activation (or the refresh) instead of holding it, and shutdown, for ever.
    /// </remarks>
    protected override Task ReadAsync()
    {
        var read = ReadWithRetriesAsync();
        _firstRead ??= read;
        return read;
    }

    private async Task ReadWithRetriesAsync()
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var remaining = _context.ReadRetryTimeout - Stopwatch.GetElapsedTime(started);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_context.Stopping);
            attempt.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            try
            {
                await LoadAsync(attempt.Token);
                _loadFailure = null;
                LastPrimaryIssue.Resolve(Host, Services);
                return;
            }
            catch (Exception e) when (IsTransient(e) || attempt.IsCancellationRequested)
            {
                LastPrimaryIssue.Record(new PostgresJournalReadFailed { Exception = e }, Host, Services);
                LogRetrying(e, "Reading");
                if (attempt.IsCancellationRequested || Stopwatch.GetElapsedTime(started) >= _context.ReadRetryTimeout)
                {
                    var reason = _context.Stopping.IsCancellationRequested ? "the silo is stopping" : $"retrying for {_context.ReadRetryTimeout}";
                    var giveUp = new OrleansPgStoreException(
                        $"Reading stream '{_stream}' of {Services.GrainId} gave up after {ConsecutiveFailures} attempt(s) ({reason}): {e.Message}",
                        e,
                        isTransient: true);
                    _loadFailure = ExceptionDispatchInfo.Capture(giveUp);
                    throw giveUp;
                }
            }
            catch (Exception e)
            {
                // Unreadable history or a missing table: retrying cannot help. Fail this cycle, and remember it
                // for Synchronize.
                _loadFailure = ExceptionDispatchInfo.Capture(
                    e is OrleansPgStoreException store ? Failure($"Reading stream '{_stream}' of {Services.GrainId}", store) : e);
                _loadFailure.Throw();
            }

            try
            {
                await LastPrimaryIssue.DelayBeforeRetry().WaitAsync(attempt.Token);
            }
            catch (OperationCanceledException)
            {
                // Out of time or stopping: one last attempt decides.
            }
        }
    }

    /// <inheritdoc/>
    protected override async Task<int> WriteAsync()
    {
        var batch = GetCurrentBatchOfUpdates();
        // Serialization errors are bugs in the event types, not outages: they throw and fail the caller's
        // ConfirmEvents rather than being retried forever. Nothing has been written at that point.
        var events = new EventData[batch.Length];
        for (var i = 0; i < batch.Length; i++)
        {
            events[i] = Serialize(batch[i]);
        }

        var expected = LastStreamVersion;
        while (true)
        {
            IReadOnlyList<RecordedEvent> committed;
            try
            {
                committed = await _context.Journal.CommitAsync(_stream, events, batch[0].Metadata, expected);
            }
            catch (StreamConcurrencyException e)
            {
                LogConflict(_context.Logger, _stream, e.ExpectedVersion, e.ActualVersion);
                await ReadAsync();
                return 0;
            }
            catch (Exception e) when (IsTransient(e))
            {
                // The commit may or may not have happened; the retry resends the same ids and so cannot append twice.
                LastPrimaryIssue.Record(new PostgresJournalWriteFailed { Exception = e }, Host, Services);
                LogRetrying(e, $"Appending {batch.Length} event(s) to", write: true);
                await LastPrimaryIssue.DelayBeforeRetry();
                continue;
            }

            LastPrimaryIssue.Resolve(Host, Services);
            if (committed.Count != batch.Length || committed[0].Version != expected + 1)
            {
                // The ids were found stored elsewhere than this batch expected, which only a truncation racing a
                // retry can cause: the events are in, so count them written and take the stream as it is.
                await ReadAsync();
                return batch.Length;
            }

            var before = _version;
            foreach (var entry in batch)
            {
                Apply(_view, entry.Event, nameof(WriteAsync));
            }

            _version = checked(_version + batch.Length);
            // Nothing may await from here on: the base class still counts the batch as pending until this returns,
            // so a tentative view computed during an await would apply the batch a second time.
            if (_snapshotInterval > 0 && _version / _snapshotInterval > before / _snapshotInterval)
            {
                TakeSnapshot();
            }

            return batch.Length;
        }
    }

    /// <inheritdoc/>
    protected override async Task ClearPrimaryLogAsync(CancellationToken cancellationToken)
    {
        RecordedEvent? tombstone;
        try
        {
            tombstone = await _context.Journal.TruncateAsync(_stream, snapshotJson: null, expectedVersion: null, cancellationToken);
        }
        catch (OrleansPgStoreException e)
        {
            throw Failure($"Clearing the log of {Services.GrainId} (stream '{_stream}')", e);
        }

        // The stream keeps its versions; the grain's restart at 0 right after the tombstone.
        _baseVersion = tombstone is null ? 0 : tombstone.Version + 1;
        LogCleared(_context.Logger, _stream, _baseVersion);
    }

    /// <summary>Rebuilds the confirmed view from the newest snapshot (or tombstone) and the events after it.</summary>
    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        TLogView? view = null;
        var version = 0;
        var baseVersion = 0L;
        var replayed = 0;
        // ReplayAsync reads only what a replay needs, with the statement every pooled connection has prepared, on the
        // registration's warm activation connections when one is free.
        await foreach (var entry in _context.ActivationReads.ReplayAsync(_stream, cancellationToken))
        {
            var e = new RecordedEvent(0, _stream, entry.Version, entry.Name, entry.Json, null, EventMetadata.None, default, entry.IsSnapshot);
            if (e.IsSnapshot)
            {
                (version, view, var replace) = e.IsTombstone ? (0, InitialState, false) : await ReadSnapshotAsync(e, cancellationToken);
                // An unreadable snapshot is replaced by a readable one below.
                replayed = replace ? _snapshotInterval : 0;
                baseVersion = e.Version + 1 - version;
                continue;
            }

            if (e.Version != baseVersion + version)
            {
                throw new InvalidOperationException(
                    $"Stream '{_stream}' has version {e.Version} where {baseVersion + version} was expected; its history has a gap.");
            }

            view ??= InitialState;
            Apply(view, Deserialize(e), nameof(LoadAsync));
            version = checked(version + 1);
            replayed++;
        }

        _view = view ?? InitialState;
        _version = version;
        _baseVersion = baseVersion;
        if (_snapshotInterval > 0 && replayed >= _snapshotInterval)
        {
            TakeSnapshot();
        }
    }

    /// <summary>
    /// Serializes the confirmed view now, so the snapshot holds exactly this version, and leaves saving it to the
    /// background: confirmation never waits for a snapshot.
    /// </summary>
    private void TakeSnapshot()
    {
        string json;
        try
        {
            json = _context.Snapshots.Write(_version, _view);
        }
        catch (Exception e)
        {
            // Orleans cannot serialize the state (a member type without a codec). Only an optimization: the grain works
            // without it, replaying its events. Said once per grain type.
            var grainType = Services.GrainId.Type.ToString()!;
            SerializationInstruments.SnapshotSkipped(grainType);
            if (_context.UnsnapshottableGrainTypes.TryAdd(grainType, true))
            {
                LogUnsnapshottable(_context.Logger, e, grainType, typeof(TLogView), _stream, e.Message);
            }

            return;
        }

        _snapshots.Enqueue(LastStreamVersion, json);
    }

    /// <summary>
    /// Reads a snapshot's state or, when it cannot be read (written in the JSON format of earlier versions, of another
    /// state type, corrupt, or no longer deserialized by Orleans), rebuilds the same version from the events it covers:
    /// a snapshot is only a cache of that replay. When those events are gone (retention), a snapshot in the earlier JSON
    /// format is read as JSON with a Warning, as earlier versions did; any other unreadable snapshot fails the load.
    /// </summary>
    /// <returns>The grain version and state, and whether the snapshot should be replaced by a readable one.</returns>
    private async Task<(int Version, TLogView View, bool Replace)> ReadSnapshotAsync(RecordedEvent snapshot, CancellationToken cancellationToken)
    {
        UnreadableSnapshotException unreadable;
        try
        {
            var (grainVersion, state) = _context.Snapshots.Read<TLogView>(snapshot.Json);
            return (grainVersion, state ?? InitialState, false);
        }
        catch (UnreadableSnapshotException e)
        {
            unreadable = e;
        }

        var what = $"The snapshot of stream '{_stream}' of {Services.GrainId} at version {snapshot.Version}";
        var legacy = unreadable.LegacyStateJson is not null;
        // Without a grain version, the base can only be 0 (a clear deletes event 0): the rebuild checks that event 0 is there.
        var version = unreadable.GrainVersion is { } recorded && recorded <= snapshot.Version + 1
            ? recorded
            : snapshot.Version < int.MaxValue ? (int)(snapshot.Version + 1) : -1;
        if (version >= 0 && await RebuildAsync(snapshot.Version, version, cancellationToken) is { } rebuilt)
        {
            if (!legacy || _context.LegacySnapshotGrainTypes.TryAdd(Services.GrainId.Type.ToString()!, true))
            {
                LogSnapshotRebuilt(_context.Logger, unreadable, _stream, snapshot.Version, typeof(TLogView), unreadable.Message);
            }

            return (version, rebuilt, true);
        }

        if (legacy && unreadable.GrainVersion is { } legacyVersion)
        {
            TLogView? state;
            try
            {
                state = _context.Snapshots.ReadLegacy<TLogView>(unreadable.LegacyStateJson!);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                throw new InvalidOperationException(
                    $"{what} cannot be read as {typeof(TLogView)}: {e.Message} It is in the JSON format of earlier versions and the " +
                    "events it covers are no longer all stored to rebuild it from.", e);
            }

            LogLegacySnapshotRead(_context.Logger, _stream, snapshot.Version, typeof(TLogView));
            return (legacyVersion, state ?? InitialState, true);
        }

        // Not the internal exception itself as the inner one: this travels to the grain's caller.
        throw new InvalidOperationException(
            $"{what} cannot be read as {typeof(TLogView)}: {unreadable.Message}. The events it covers are no longer all stored " +
            "to rebuild it from.", unreadable.InnerException);
    }

    /// <summary>
    /// The state after grain events <c>0..grainVersion-1</c>, which end at stream version <paramref name="snapshotVersion"/>,
    /// replayed from the events; <c>null</c> when they are not all stored.
    /// </summary>
    private async Task<TLogView?> RebuildAsync(long snapshotVersion, int grainVersion, CancellationToken cancellationToken)
    {
        // Grain event g is stream version base + g, and the snapshot covers grain events 0..grainVersion-1.
        var baseVersion = snapshotVersion + 1 - grainVersion;
        var view = InitialState;
        var replayed = 0;
        await foreach (var e in _context.Journal.ReadStreamAsync(_stream, baseVersion, snapshotVersion + 1, cancellationToken))
        {
            if (e.Version != baseVersion + replayed)
            {
                break;
            }

            Apply(view, Deserialize(e), nameof(RebuildAsync));
            replayed++;
        }

        return replayed == grainVersion ? view : null;
    }

    /// <summary>Serialization errors are bugs in the event types, not outages: they fail the write, naming what failed.</summary>
    private EventData Serialize(PostgresSubmissionEntry<TLogEntry> entry)
    {
        try
        {
            return _context.Events.Serialize(entry.Event, entry.EventId);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new OrleansException(
                $"Event {entry.Event.GetType()} of {Services.GrainId} cannot be written to stream '{_stream}': {e.Message}");
        }
    }

    private TLogEntry Deserialize(RecordedEvent e)
    {
        try
        {
            return (TLogEntry)_context.Events.Deserialize(e, typeof(TLogEntry));
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"Reading {Services.GrainId}: {ex.Message}", ex);
        }
    }

    private void Apply(TLogView view, TLogEntry entry, string where)
    {
        try
        {
            Host.UpdateView(view, entry);
        }
        catch (Exception e)
        {
            // Like Orleans' own adaptors: a failing TransitionState is user code, reported but not fatal.
            Services.CaughtUserCodeException(nameof(Host.UpdateView), where, e);
        }
    }

    /// <summary>
    /// The grain's caller sees this; Orleans cannot serialize engine or Npgsql exceptions, so the engine's message
    /// travels and the full exception is logged here.
    /// </summary>
    private OrleansException Failure(string operation, OrleansPgStoreException e)
    {
        LogFailure(_context.Logger, e, operation);
        return new OrleansException($"{operation} failed: {e.Message}");
    }

    /// <summary>
    /// Outages and unknown outcomes, worth retrying; anything else (a missing table, an unreadable event) needs a
    /// person, and retrying would only hide it.
    /// </summary>
    private static bool IsTransient(Exception e)
        => e is OrleansPgStoreException and not (ConcurrencyException or StoreNotSeededException)
            or NpgsqlException or TimeoutException or IOException or SocketException;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream {Stream} moved on (expected version {Expected}, found {Actual}); reloading and resubmitting")]
    private static partial void LogConflict(ILogger logger, string stream, long expected, long actual);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The state of grain type {GrainType} ({StateType}, stream {Stream}) cannot be serialized by Orleans, so it is not snapshotted and its activations replay every event; reported once per grain type: {Reason}")]
    private static partial void LogUnsnapshottable(ILogger logger, Exception exception, string grainType, Type stateType, string stream, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot of stream {Stream} at version {Version} cannot be read as {StateType} ({Reason}); rebuilt that state from its events and replacing the snapshot (a snapshot in the JSON format of earlier versions is reported once per grain type)")]
    private static partial void LogSnapshotRebuilt(ILogger logger, Exception exception, string stream, long version, Type stateType, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot of stream {Stream} at version {Version} is in the JSON format of earlier versions and the events it covers are gone (retention), so it was read as JSON into {StateType}: members JSON could not store (tuples, comparers, …) may have been lost when it was written. It is replaced by a snapshot in Orleans' format")]
    private static partial void LogLegacySnapshotRead(ILogger logger, string stream, long version, Type stateType);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Operation} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleared stream {Stream}; the grain's events now start at stream version {BaseVersion}")]
    private static partial void LogCleared(ILogger logger, string stream, long baseVersion);
}
