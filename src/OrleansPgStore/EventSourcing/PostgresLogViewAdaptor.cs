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

    // When the first attempt to write the queued batch started: its retries (conflicts included) share one budget.
    private long? _writeStarted;

    // A reload after a conflict late in a write's budget still gets this long: a conflict is no outage.
    private static readonly TimeSpan MinimumReloadTime = TimeSpan.FromSeconds(1);

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
        // Deactivation waits for it (SnapshotSaveOnDeactivation).
        (host as IGrainBase)?.GrainContext.SetComponent(_snapshots);
    }

    /// <summary>
    /// Confirms the events raised so far, refreshes the view from the journal, and fails if either could not be done.
    /// </summary>
    /// <remarks>
    /// <para>Orleans 10 runs the grain lifecycle, whose post-activation step starts the first read without awaiting it,
    /// before <c>OnActivateAsync</c> calls this. The base class then waits for a cycle that no longer reads, and a
    /// first read that failed would go unnoticed: the grain would serve an empty state. Re-implementing the
    /// interface method lets that failure fail the activation (and every later synchronization) instead.</para>
    /// <para>The activation's own synchronization does not read the stream again: the post-activation step has just
    /// started the first read, which sees everything committed before the activation, so it waits for that read, and
    /// then for the events raised since (a grain that does not wait for its first load in <c>OnActivateAsync</c> may
    /// have raised some). Orleans' base class would queue a second full read behind it, doubling what an activation
    /// costs.</para>
    /// <para>Like <see cref="ConfirmSubmittedEntries"/>, it fails, unwrapped, when a write gave up the events it waited
    /// for.</para>
    /// </remarks>
    public new async Task Synchronize()
    {
        var confirmation = Watch();
        try
        {
            if (!_synchronized && _firstRead is { } firstRead)
            {
                _synchronized = true;
                await firstRead;
                if (GetNumberPendingUpdates() > 0)
                {
                    await base.ConfirmSubmittedEntries();
                }
            }
            else
            {
                _synchronized = true;
                await base.Synchronize();
            }
        }
        finally
        {
            if (confirmation is not null)
            {
                _confirmations!.Remove(confirmation);
            }
        }

        if (confirmation is null)
        {
            ThrowUnobservedFailure();
        }

        confirmation?.ThrowIfFailed();
        _loadFailure?.Throw();
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
        => new() { Entry = entry, Metadata = JournalRequestContext.Capture(), Sequence = _raised++ };

    /// <inheritdoc/>
    /// <remarks>
    /// Transient failures are retried with the base class's backoff for at most <c>ReadRetryTimeout</c>, and not at
    /// all once the silo stops; then the read gives up with a transient <see cref="OrleansPgStoreException"/> naming the
    /// stream. A failed read does not throw (the base class would fail the whole worker cycle, skipping the queued
    /// writes, which must either commit or be given up): it is kept for <see cref="Synchronize"/>, which fails the
    /// activation (or the refresh) with it, until a read or a commit shows the view is current again.
    /// </remarks>
    protected override Task ReadAsync()
    {
        var read = ReadOrKeepFailureAsync();
        _firstRead ??= read;
        return read;
    }

    private async Task ReadOrKeepFailureAsync()
    {
        try
        {
            await ReadWithRetriesAsync(_context.ReadRetryTimeout);
        }
        catch (Exception) when (_loadFailure is not null)
        {
            // Kept in _loadFailure.
        }
    }

    /// <summary>Reloads the view, retrying transient failures for at most <paramref name="timeout"/>; throws (and keeps in
    /// <c>_loadFailure</c>) what made it fail.</summary>
    private async Task ReadWithRetriesAsync(TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var remaining = timeout - Stopwatch.GetElapsedTime(started);
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
                if (attempt.IsCancellationRequested || Stopwatch.GetElapsedTime(started) >= timeout)
                {
                    var reason = _context.Stopping.IsCancellationRequested ? "the silo is stopping" : $"retrying for {timeout}";
                    var giveUp = new OrleansPgStoreException(
                        $"Reading stream '{_stream}' of {Services.GrainId} gave up after {ConsecutiveFailures} attempt(s) ({reason}): {e.Message}",
                        e,
                        isTransient: true);
                    _loadFailure = ExceptionDispatchInfo.Capture(giveUp);
                    // Said here, not left to whoever receives it: when the silo stops, Orleans may cancel the activation
                    // waiting for this read before it fails, and then logs only the cancellation.
                    LogReadGaveUp(_context.Logger, _stream, giveUp.Message);
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
    /// <remarks>
    /// <para>Never throws (see <c>PostgresLogViewAdaptor.Confirmations.cs</c>): the batch commits; or a conflict reloads
    /// the stream and reports 0 written, and the base class re-submits the batch on the newer state; or the batch is
    /// given up, with the failure its confirms see.</para>
    /// <para>Refused at once, nothing written: an event that cannot be serialized, that the state has no <c>Apply</c>
    /// for, or that the database refuses. Transient failures (an outage, a lost connection) are retried with the same
    /// event ids, so a commit whose answer was lost is found stored rather than appended twice, for at most
    /// <c>WriteRetryTimeout</c> since the batch's first attempt (conflicts and reloads included). Then the batch is
    /// given up: with a transient <see cref="OrleansPgStoreException"/> when no attempt can have committed (each failed
    /// to connect, or the server answered with an error), else with <see cref="JournalWriteOutcomeUnknownException"/>.</para>
    /// </remarks>
    protected override async Task<int> WriteAsync()
    {
        var batch = GetCurrentBatchOfUpdates();
        var events = new EventData[batch.Length];
        try
        {
            for (var i = 0; i < batch.Length; i++)
            {
                events[i] = Serialize(batch[i]);
            }
        }
        catch (OrleansException refused)
        {
            return Drop(refused);
        }

        var started = _writeStarted ??= Stopwatch.GetTimestamp();
        var expected = LastStreamVersion;
        var mayHaveCommitted = false;
        while (true)
        {
            var remaining = _context.WriteRetryTimeout - Stopwatch.GetElapsedTime(started);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_context.Stopping);
            attempt.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            IReadOnlyList<RecordedEvent> committed;
            Task<IReadOnlyList<RecordedEvent>>? commit = null;
            try
            {
                // The deadline holds even where the driver does not give up at once (a server that stopped answering).
                commit = _context.Journal.CommitAsync(_stream, events, batch[0].Metadata, expected, attempt.Token);
                committed = await commit.WaitAsync(attempt.Token);
            }
            catch (StreamConcurrencyException e)
            {
                // None of the batch's ids is stored (the commit would have returned them), whatever earlier attempts did.
                LogConflict(_context.Logger, _stream, e.ExpectedVersion, e.ActualVersion);
                try
                {
                    await ReadWithRetriesAsync(remaining > MinimumReloadTime ? remaining : MinimumReloadTime);
                }
                catch (Exception reload)
                {
                    return Drop(new OrleansPgStoreException(
                        $"{Appending(batch)} failed; nothing was committed and the events are never retried: the stream moved on " +
                        $"(to version {e.ActualVersion}) and reloading it failed: {reload.Message}",
                        reload,
                        isTransient: reload is OrleansPgStoreException { IsTransient: true }));
                }

                return 0;
            }
            catch (Exception e) when (IsTransientWriteFailure(e) || attempt.IsCancellationRequested)
            {
                Abandon(commit);
                mayHaveCommitted |= !CannotHaveCommitted(e);
                LastPrimaryIssue.Record(new PostgresJournalWriteFailed { Exception = e }, Host, Services);
                LogRetrying(e, $"Appending {batch.Length} event(s) to", write: true);
                if (attempt.IsCancellationRequested || Stopwatch.GetElapsedTime(started) >= _context.WriteRetryTimeout)
                {
                    return Drop(GiveUp(batch, e, mayHaveCommitted));
                }

                try
                {
                    await LastPrimaryIssue.DelayBeforeRetry().WaitAsync(attempt.Token);
                }
                catch (OperationCanceledException)
                {
                    // Out of time or stopping: an attempt now would be cancelled before it is sent.
                    return Drop(GiveUp(batch, e, mayHaveCommitted));
                }

                continue;
            }
            catch (Exception e)
            {
                // Refused by the engine's checks or by the server: this attempt stored nothing.
                LogFailure(_context.Logger, e, Appending(batch));
                return Drop(mayHaveCommitted
                    ? GiveUp(batch, e, mayHaveCommitted)
                    : new OrleansPgStoreException($"{Appending(batch)} was refused; nothing was committed: {e.Message}", e, isTransient: false));
            }

            LastPrimaryIssue.Resolve(Host, Services);
            _writeStarted = null;
            _unobservedFailure = null;
            if (committed.Count != batch.Length || committed[0].Version != expected + 1)
            {
                // The ids were found stored elsewhere than this batch expected, which only a truncation racing a
                // retry can cause: the events are in, so count them written and take the stream as it is.
                await ReadOrKeepFailureAsync();
                return batch.Length;
            }

            // A commit right after the view's last version shows the view is current, even if a read failed since.
            _loadFailure = null;
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

    /// <summary>Leaves an attempt that outlived its deadline to finish on its own, observing how it ends.</summary>
    private static void Abandon(Task? commit)
    {
        if (commit is { IsCompleted: false })
        {
            _ = commit.ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private string Appending(PostgresSubmissionEntry<TLogEntry>[] batch)
        => $"Appending {batch.Length} event(s) of {Services.GrainId} to stream '{_stream}'";

    /// <summary>The failure that ends a write retrying for too long: not committed, or not known.</summary>
    private Exception GiveUp(PostgresSubmissionEntry<TLogEntry>[] batch, Exception last, bool mayHaveCommitted)
    {
        var reason = _context.Stopping.IsCancellationRequested ? "the silo is stopping" : $"retrying for {_context.WriteRetryTimeout}";
        var attempts = $"{Appending(batch)} gave up after {ConsecutiveFailures} attempt(s) ({reason})";
        return mayHaveCommitted
            ? new JournalWriteOutcomeUnknownException(
                $"{attempts} with the outcome unknown: an attempt may have committed before its connection was lost, and the " +
                "database could not be asked since. The events are never sent again; once the database is back, refresh the " +
                $"grain (or look their ids up) to see whether they were committed. Last error: {last.Message}",
                Services.GrainId,
                _stream,
                batch.Select(e => e.EventId).ToArray())
            : new OrleansPgStoreException(
                $"{attempts}; nothing was committed and the events are never retried: {last.Message}", last, isTransient: true);
    }

    /// <inheritdoc/>
    protected override async Task ClearPrimaryLogAsync(CancellationToken cancellationToken)
    {
        RecordedEvent? tombstone;
        // The snapshot still queued covers events about to go; one being saved is ordered with the truncation by the
        // journal (its stream lock), so it can neither fail the clear nor outlive it.
        _snapshots.Clearing();
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
        await foreach (var entry in _context.Reads.ReplayAsync(_stream, cancellationToken))
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
            Apply(view, Replayable(e), nameof(LoadAsync));
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

            Apply(view, Replayable(e), nameof(RebuildAsync));
            replayed++;
        }

        return replayed == grainVersion ? view : null;
    }

    /// <summary>An event that cannot be serialized, or that the state would not apply, is a bug in the grain, not an outage:
    /// it fails the write, naming what failed.</summary>
    private EventData Serialize(PostgresSubmissionEntry<TLogEntry> entry)
    {
        EventData data;
        try
        {
            data = _context.Events.Serialize(entry.Event, entry.EventId);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw Refused(entry, e.Message);
        }

        return WhyNotApplied(entry.Event) is { } notApplied ? throw Refused(entry, notApplied) : data;
    }

    private OrleansException Refused(PostgresSubmissionEntry<TLogEntry> entry, string reason)
        => new($"Event {entry.Event.GetType()} of {Services.GrainId} cannot be written to stream '{_stream}' (nothing was committed): {reason}");

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

    /// <summary>A stored event, read to be applied: fails the load when the state would not apply it.</summary>
    private TLogEntry Replayable(RecordedEvent e)
    {
        var entry = Deserialize(e);
        return WhyNotApplied(entry) is { } notApplied
            ? throw new InvalidOperationException(
                $"Event '{e.Name}' at version {e.Version} of stream '{_stream}' ({Services.GrainId}) cannot be applied: {notApplied}")
            : entry;
    }

    /// <summary>Why the grain's default <c>TransitionState</c> would not apply <paramref name="entry"/>; null when it would,
    /// or when the grain applies events itself.</summary>
    private string? WhyNotApplied(TLogEntry entry)
        => DefaultTransitionState.WhyNotApplied(Host.GetType(), typeof(TLogView), typeof(TLogEntry), entry.GetType());

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

    /// <summary>
    /// A commit failure worth retrying: the connection or the server failed, not the statement. A statement the server
    /// refuses (bad input, a missing table) fails the same way every time.
    /// </summary>
    private static bool IsTransientWriteFailure(Exception e) => e switch
    {
        ConcurrencyException => false,
        OrleansPgStoreException store => store.IsTransient || store.InnerException is IOException or SocketException or TimeoutException,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => e is TimeoutException or IOException or SocketException,
    };

    /// <summary>
    /// True when the failed attempt cannot have committed: the server answered with an error (the statement's implicit
    /// transaction rolled back), or no connection could be made. Anything else (a connection lost or a timeout after
    /// the statement was sent) leaves the outcome unknown.
    /// </summary>
    private static bool CannotHaveCommitted(Exception e)
    {
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is PostgresException
                || cause is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound
                    or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.AddressNotAvailable })
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream {Stream} moved on (expected version {Expected}, found {Actual}); reloading and resubmitting")]
    private static partial void LogConflict(ILogger logger, string stream, long expected, long actual);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The state of grain type {GrainType} ({StateType}, stream {Stream}) cannot be serialized by Orleans, so it is not snapshotted and its activations replay every event; reported once per grain type: {Reason}")]
    private static partial void LogUnsnapshottable(ILogger logger, Exception exception, string grainType, Type stateType, string stream, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot of stream {Stream} at version {Version} cannot be read as {StateType} ({Reason}); rebuilt that state from its events and replacing the snapshot (a snapshot in the JSON format of earlier versions is reported once per grain type)")]
    private static partial void LogSnapshotRebuilt(ILogger logger, Exception exception, string stream, long version, Type stateType, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot of stream {Stream} at version {Version} is in the JSON format of earlier versions and the events it covers are gone (retention), so it was read as JSON into {StateType}: members JSON could not store (tuples, comparers, …) may have been lost when it was written. It is replaced by a snapshot in Orleans' format")]
    private static partial void LogLegacySnapshotRead(ILogger logger, string stream, long version, Type stateType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading stream {Stream} failed for good; the activation or refresh waiting for it fails: {Reason}")]
    private static partial void LogReadGaveUp(ILogger logger, string stream, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Operation} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleared stream {Stream}; the grain's events now start at stream version {BaseVersion}")]
    private static partial void LogCleared(ILogger logger, string stream, long baseVersion);
}
