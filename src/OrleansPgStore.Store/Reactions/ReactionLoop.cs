using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// One reaction worker's cycle: correlate (find targets with new work) → claim → fetch the events after each
/// watermark → run the handlers in order → record progress (block first where needed, then ack). Any number of
/// loops, in any number of processes, compete for the same targets through leases.
/// </summary>
/// <remarks>
/// Delivery is at least once per target and in order within a target; nothing is skipped. A projection's writes
/// commit with its progress, so its effects happen exactly once. Drive it with <see cref="ReactionWorker"/> (the
/// Orleans worker grain does), or call <see cref="RunCycleAsync"/> yourself, e.g. from a timer.
/// </remarks>
internal sealed partial class ReactionLoop
{
    private const int MaxErrorLength = 4000;

    // A kill storm or a restart leaves every idle pooled connection dead, and each is found out only when used: a few
    // immediate retries get past them instead of failing the cycle (and backing the worker off) on each one.
    private const int StepAttempts = 4;

    private readonly JournalStore _journal;
    private readonly LeaseStore _leases;
    private readonly ReactionRegistry _registry;
    private readonly ReactionOptions _options;
    private readonly ILogger _logger;
    private readonly string[] _names;
    private readonly ClaimSize _claimSize;
    private readonly CorrelationPageSize _pageSize;
    private bool _leftLeases;

    // The targets the last claim asked for, and whether it got as many (then more marked work is likely left).
    private int _lastAsked;
    private bool _lastClaimFull;

    /// <summary>Creates a loop over a journal and a lease store.</summary>
    /// <param name="journal">The events.</param>
    /// <param name="leases">The subscriptions of the targets.</param>
    /// <param name="registry">The reactions to run; not changed after the loop starts.</param>
    /// <param name="options">Claim sizes, lease duration, retries; defaults when <c>null</c>.</param>
    /// <param name="loggerFactory">Logging; none when <c>null</c>.</param>
    /// <param name="holder">This loop's identity as a lease holder; unique by default.</param>
    public ReactionLoop(
        JournalStore journal,
        LeaseStore leases,
        ReactionRegistry registry,
        ReactionOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        string? holder = null)
    {
        _journal = journal ?? throw new ArgumentNullException(nameof(journal));
        _leases = leases ?? throw new ArgumentNullException(nameof(leases));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _options = options ?? new ReactionOptions();
        _options.Validate();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Reactions");
        _names = registry.Names.ToArray();
        _claimSize = new ClaimSize(_options);
        _pageSize = new CorrelationPageSize(_options);
        Holder = holder ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
        _announceInAdvance = SharesDatabase(journal, leases);
        _workNotification = _announceInAdvance ? journal.WorkNotification : null;
        _inDatabase = InDatabase(journal, leases, registry, _announceInAdvance);
    }

    /// <summary>This loop's lease-holder identity.</summary>
    public string Holder { get; }

    /// <summary>The options in force.</summary>
    public ReactionOptions Options => _options;

    /// <summary>Runs one cycle: discover, claim, fetch, handle, then project and ack.</summary>
    /// <remarks>One cycle at a time per loop (it remembers its correlation checkpoint); run more loops for more workers.</remarks>
    public async Task<CycleResult> RunCycleAsync(CancellationToken cancellationToken = default)
    {
        if (_names.Length == 0)
        {
            return CycleResult.Nothing;
        }

        await ReleaseLeftLeasesAsync(cancellationToken).ConfigureAwait(false);
        var marked = await ClaimMarkedFirstAsync(cancellationToken).ConfigureAwait(false);
        var (correlated, settling, _, claimed) = marked is null
            ? await DiscoverAsync(claim: true, cancellationToken).ConfigureAwait(false)
            : new Discovery(0, false, 0, marked);
        var claimedAt = claimed?.SentAt ?? Stopwatch.GetTimestamp();
        ClaimedLeases leases;
        CycleReport report;
        try
        {
            leases = claimed?.Leases ?? await ClaimAsync(cancellationToken).ConfigureAwait(false);
            _lastClaimFull = leases.Count > 0 && leases.Count >= _lastAsked;
            if (leases.Count == 0)
            {
                return new CycleResult(correlated, 0, 0, 0, 0, 0, []) { Settling = settling, Contended = leases.Contended };
            }

            var pages = await FetchAsync(leases, cancellationToken).ConfigureAwait(false);
            var results = await HandleAsync(leases, pages, claimedAt, cancellationToken).ConfigureAwait(false);
            report = _registry.HasProjections
                ? await ProjectAndAckAsync(results, claimedAt, cancellationToken).ConfigureAwait(false)
                : await AckAsync(results, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The claim may have committed unseen, or the ack never came: this loop may still hold leases nobody works on,
            // and a server crash may have lost its last checkpoint advance.
            SuspectLostWrites();
            throw;
        }
        _claimSize.Observe(leases.Count, report.Handled, claimedAt);
        foreach (var stream in report.Dropped)
        {
            _logger.LeaseReportDropped(stream, Holder);
        }

        return new CycleResult(correlated, leases.Count, report.Handled, report.Acked, report.Deferred, report.Blocked, report.Dropped)
        {
            Settling = settling,
        };
    }

    /// <summary>
    /// After a cycle failed between claim and ack, hands back the leases this loop may still hold (watermarks and retry
    /// counts kept), so its targets are claimable again at once rather than when the leases expire. Cycles of one loop
    /// run one at a time, so at this point none of its leases is in use. Best effort: when it fails too, the leases
    /// still expire, and the next cycle tries again.
    /// </summary>
    private async Task ReleaseLeftLeasesAsync(CancellationToken cancellationToken)
    {
        if (!_leftLeases)
        {
            return;
        }

        try
        {
            var released = await _leases.ReleaseOwnAsync(Holder, cancellationToken).ConfigureAwait(false);
            _leftLeases = false;
            _logger.LeftLeasesReleased(released, Holder);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LeftLeasesNotReleased(Holder, e.Message);
        }
    }

    /// <summary>
    /// While other workers are discovering too (this loop's advances found the checkpoint ahead of it lately) and its last
    /// claim came back full (marked work is likely left): claims before reading the feed, and skips the read when the
    /// claim got targets. Otherwise both workers read the same page and one reads it for nothing, and on a busy machine
    /// that read cost the slower worker its turn at the backlog (a 6,800-event page took 15 ms for one worker and 70–90 ms
    /// for the other). Discovery waits at most until the marked work runs out; the other workers advance it meanwhile.
    /// Returns <c>null</c> when the cycle should discover (and claim with its advance) as usual.
    /// </summary>
    private async Task<Claimed?> ClaimMarkedFirstAsync(CancellationToken cancellationToken)
    {
        if (!_lastClaimFull || _sharedAt is not { } shared || Stopwatch.GetElapsedTime(shared) >= SharedFor)
        {
            return null;
        }

        var sentAt = Stopwatch.GetTimestamp();
        ClaimedLeases leases;
        try
        {
            leases = await ClaimAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            SuspectLostWrites();
            throw;
        }

        return leases.Count > 0 ? new Claimed(leases, sentAt) : null;
    }

    /// <summary>Step "claim": leases up to <see cref="ReactionOptions.MaxClaim"/> targets with work (see <see cref="ClaimSize"/>).</summary>
    private Task<ClaimedLeases> ClaimAsync(CancellationToken cancellationToken)
    {
        var (lagging, leading) = _claimSize.Next();
        _lastAsked = lagging + leading;
        return StepAsync(
            () => _leases.ClaimAsync(lagging, leading, Holder, _options.LeaseDuration, _options.Lane, cancellationToken),
            redoable: false,
            cancellationToken);
    }

    /// <summary>
    /// The feed page correlation maps to targets: without payloads when no reaction has a resolver of its own (the
    /// default one looks at the event's stream only), which spares converting, sending and decoding them.
    /// </summary>
    private Task<FeedPage> ReadCorrelationPageAsync(long after, int limit, CancellationToken cancellationToken)
        => _registry.ResolvesOwnStreamsOnly
            ? _journal.ReadFeedHeadsAsync(after, long.MaxValue, _names, limit, cancellationToken)
            : _journal.ReadFeedAsync(after, long.MaxValue, _names, limit, cancellationToken);

    /// <summary>
    /// Step "fetch": the events of every claimed target fed by one stream in a single round trip (a statement per lease
    /// would dominate the cycle for small pages). A failure here is left to each lease's own fetch, so it counts as
    /// that target's attempt.
    /// </summary>
    private async Task<Dictionary<string, IReadOnlyList<RecordedEvent>>> FetchAsync(
        IReadOnlyList<Lease> leases, CancellationToken cancellationToken)
    {
        var fed = leases.Where(l => l.Source is not null && l.Retry <= _options.MaxRetries).ToList();
        var fetched = new Dictionary<string, IReadOnlyList<RecordedEvent>>(StringComparer.Ordinal);
        if (fed.Count == 0)
        {
            return fetched;
        }

        try
        {
            var ranges = fed.Select(l => (l.Source!, l.At, l.Work)).ToList();
            var pages = await StepAsync(
                () => _journal.ReadStreamRangesAsync(ranges, _names, _options.PageSize, cancellationToken), redoable: true, cancellationToken)
                .ConfigureAwait(false);
            for (var i = 0; i < fed.Count; i++)
            {
                fetched[fed[i].Stream] = pages[i];
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.PrefetchFailed(fed.Count, e);
        }

        return fetched;
    }

    /// <summary>Step "handle": runs the at-least-once handlers of every claimed target, targets in parallel.</summary>
    private async Task<IReadOnlyList<TargetResult>> HandleAsync(
        IReadOnlyList<Lease> leases, Dictionary<string, IReadOnlyList<RecordedEvent>> pages, long claimedAt, CancellationToken cancellationToken)
    {
        var results = new ConcurrentBag<TargetResult>();
        await Parallel.ForEachAsync(
            leases,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken },
            async (lease, token) => results.Add(
                await HandleTargetAsync(lease, claimedAt, pages.GetValueOrDefault(lease.Stream), token).ConfigureAwait(false)))
            .ConfigureAwait(false);
        return results.ToList();
    }

    /// <summary>Step "ack" (no projections registered): blocks, then acks, each in its own statement.</summary>
    private async Task<CycleReport> AckAsync(IReadOnlyList<TargetResult> results, CancellationToken cancellationToken)
    {
        // Block before ack: the ack releases the lease that blocking needs.
        var blocks = results.Where(r => r.Block is not null).Select(r => r.Block!).ToList();
        var outcomes = results.Where(r => r.Outcome is not null).Select(r => r.Outcome!).ToList();
        var blocked = await StepAsync(() => _leases.BlockAsync(blocks, cancellationToken), redoable: false, cancellationToken).ConfigureAwait(false);
        var ack = await StepAsync(() => _leases.AckAsync(outcomes, cancellationToken), redoable: false, cancellationToken).ConfigureAwait(false);
        var dropped = ack.Dropped.Select(o => o.Stream).Concat(blocks.Select(b => b.Stream).Except(blocked)).ToList();
        StoreInstruments.Handled(results.Sum(r => r.Handled));
        return new CycleReport(
            results.Sum(r => r.Handled), ack.Applied.Count, ack.Applied.Count(o => o.RetryAfter is not null), blocked.Count, dropped);
    }

    /// <summary>Handles one lease with the at-least-once handlers; a projection-only registry just reads the page.</summary>
    private async Task<TargetResult> HandleTargetAsync(
        Lease lease, long claimedAt, IReadOnlyList<RecordedEvent>? prefetched, CancellationToken cancellationToken)
    {
        if (lease.Retry > _options.MaxRetries)
        {
            // Its earlier attempts never reported back (a handler that overruns its lease never throws).
            return new TargetResult(lease, [], 0, null, new LeaseBlock(lease.Stream, Holder, lease.At,
                $"Blocked before dispatch: {lease.Retry} attempts without success (max retries {_options.MaxRetries}); " +
                "the handler may be overrunning its lease."));
        }

        // Handlers may run only while the lease is ours, and it started when the claim was sent. A handler that
        // ignores its token is abandoned (not awaited) when the lease runs out, so it cannot hang the worker; its
        // attempt counts as failed.
        using var leaseTime = LeaseTime(claimedAt, cancellationToken);
        var handledAt = lease.At;
        var count = 0;
        IReadOnlyList<RecordedEvent> events = [];
        Activity? span = null;
        try
        {
            events = prefetched ?? await FetchTargetAsync(lease, leaseTime.Token).ConfigureAwait(false);
            span = ReactionTelemetry.StartHandle(lease.Stream, _options.Lane, lease.Retry, events);
            foreach (var reaction in _registry.Reactions.Where(r => r.BatchHandler is not null))
            {
                var batch = events.Where(e => reaction.Handles(e, lease.Stream)).ToList();
                if (batch.Count > 0)
                {
                    await reaction.BatchHandler!(new ReactionBatch(lease.Stream, batch, lease.Retry), leaseTime.Token)
                        .WaitAsync(leaseTime.Token).ConfigureAwait(false);
                    count += batch.Count;
                }
            }

            foreach (var e in events)
            {
                foreach (var reaction in _registry.Reactions)
                {
                    if (reaction.Handler is not null && reaction.Handles(e, lease.Stream))
                    {
                        await reaction.Handler(e, leaseTime.Token).WaitAsync(leaseTime.Token).ConfigureAwait(false);
                        count++;
                    }
                }

                handledAt = e.Position;
            }

            // A short page means everything up to the work mark is done.
            var at = events.Count < _options.PageSize ? Math.Max(lease.Work, handledAt) : handledAt;
            ReactionTelemetry.Handled(span, _options.Lane, events);
            return new TargetResult(lease, events, count, new LeaseOutcome(lease.Stream, Holder, at), null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            ReactionTelemetry.Failed(span, e);
            return Failed(lease, events, count, handledAt, e);
        }
        finally
        {
            span?.Dispose();
        }
    }

    /// <summary>A failed attempt: retried after a backoff, or blocked once its retries are used up; progress kept up to <paramref name="at"/>.</summary>
    private TargetResult Failed(Lease lease, IReadOnlyList<RecordedEvent> events, int handled, long at, Exception e)
    {
        if (lease.Retry >= _options.MaxRetries)
        {
            _logger.TargetBlocked(lease.Stream, lease.Retry + 1, e);
            return new TargetResult(lease, events, handled, null, new LeaseBlock(lease.Stream, Holder, at, Truncate(e.ToString())));
        }

        var delay = _options.Backoff.Delay(lease.Retry + 1);
        _logger.TargetRetrying(lease.Stream, lease.Retry + 1, delay.TotalMilliseconds, e);
        return new TargetResult(lease, events, handled, new LeaseOutcome(lease.Stream, Holder, at, delay), null);
    }

    /// <summary>Cancels when the leases of this cycle run out (they started when the claim was sent).</summary>
    private CancellationTokenSource LeaseTime(long claimedAt, CancellationToken cancellationToken)
    {
        var leaseTime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var remaining = _options.LeaseDuration - Stopwatch.GetElapsedTime(claimedAt);
        leaseTime.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        return leaseTime;
    }

    private async Task<IReadOnlyList<RecordedEvent>> FetchTargetAsync(Lease lease, CancellationToken cancellationToken)
        => lease.Source is null
            ? (await _journal.ReadFeedAsync(lease.At, lease.Work, _names, _options.PageSize, cancellationToken).ConfigureAwait(false)).Events
            : await _journal.ReadStreamRangeAsync(lease.Source, lease.At, lease.Work, _names, _options.PageSize, cancellationToken).ConfigureAwait(false);

    private static string Truncate(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength] + "…";

    /// <summary>
    /// Runs a step, retrying at once when its connection turned out to be dead. With <paramref name="redoable"/> any
    /// transient failure is retried (reads, and the fenced projection transaction, which a stale redo cannot commit);
    /// otherwise only failures where the server said it had dropped the connection before running the statement.
    /// </summary>
    private async Task<T> StepAsync<T>(Func<Task<T>> step, bool redoable, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < StepAttempts && !cancellationToken.IsCancellationRequested
                                      && (redoable ? IsTransient(e) : IsDroppedByServer(e)))
            {
                // A lost connection may mean the server crashed and lost this loop's last asynchronous writes: its
                // discovery position is read again, and leases it may still hold are handed back next cycle.
                SuspectLostWrites();
                if (IsDroppedByServer(e))
                {
                    // The server ended this session, most likely the pool's other idle ones too (a restart, a storm of
                    // kills): drop them all rather than find each one out by failing on it.
                    _leases.ClearIdleConnections();
                    _journal.ClearIdleConnections();
                }
            }
        }
    }

    /// <summary>
    /// After a lost connection or a failed step: the server may have crashed, and an asynchronous commit acknowledged
    /// to this loop (an advance of the checkpoint, an ack) may be gone. Forget the cached checkpoint, so the next
    /// discovery reads where it really is, and hand back whatever leases this loop may still hold before its next claim.
    /// </summary>
    private void SuspectLostWrites()
    {
        _checkpoint = null;
        _leftLeases = true;
    }

    /// <summary>The server terminated the session (administrator command, crash, shutdown): the statement did not run.</summary>
    private static bool IsDroppedByServer(Exception e)
        => Chain(e).OfType<PostgresException>().Any(p => p.SqlState is PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow);

    private static bool IsTransient(Exception e)
        => IsDroppedByServer(e) || Chain(e).OfType<NpgsqlException>().Any(n => n.IsTransient);

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
