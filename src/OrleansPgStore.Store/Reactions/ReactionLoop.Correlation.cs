using System.Diagnostics;
using Npgsql;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

internal sealed partial class ReactionLoop
{
    // Advancing the checkpoint past an empty stretch of the feed is a write; it only saves rescanning that stretch
    // (an index range with nothing in it), so it is done at most this often.
    private static readonly TimeSpan SkipAheadInterval = TimeSpan.FromSeconds(1);

    // A worker that lost the race for a page reads the next one at once, this many times per cycle at most.
    private const int MaxDiscoveryAttempts = 3;

    // After another worker was found ahead, the checkpoint is read before every page for this long: with several workers
    // discovering, a cached position is usually behind, and a page read from it would be read for nothing.
    private static readonly TimeSpan SharedFor = TimeSpan.FromSeconds(10);

    // True when the lease store writes to the database the journal's commit listeners listen on: then the announcement
    // of new work to other processes is a NOTIFY in the checkpoint advance's own transaction (no round trip of its own),
    // and _workNotification is that NOTIFY (null when NotifyOnCommit is off).
    private readonly bool _announceInAdvance;
    private readonly Notification? _workNotification;

    // Set when every reaction targets the event's own stream and the lease store can read the journal's table (same
    // database and role): discovery then runs in the database, in one statement (DiscoverInDatabaseAsync).
    private readonly OwnStreamDiscovery? _inDatabase;

    private long? _checkpoint;
    private long _skippedAheadAt;
    private long? _sharedAt;

    /// <summary>
    /// Step "discover": correlation, which never fails the cycle. Targets that already have marked work are claimed
    /// and handled even while the checkpoint cannot be read or advanced (a connection storm, a failover); the
    /// checkpoint is simply tried again next cycle. New work found here wakes the other workers (in this process
    /// and, through NOTIFY, in others), so they compete for it instead of waiting for their poll. With
    /// <paramref name="claim"/>, a checkpoint advance carries the cycle's claim in its round trip (step "claim"): the
    /// result then holds the leases and when that claim was sent; otherwise (nothing to advance, or the combined call
    /// failed) the caller claims on its own.
    /// </summary>
    private async Task<Discovery> DiscoverAsync(bool claim, CancellationToken cancellationToken)
    {
        try
        {
            var discovery = await CorrelatePageAsync(claim, cancellationToken).ConfigureAwait(false);
            if (discovery.Found > 0)
            {
                if (_announceInAdvance)
                {
                    // Other processes were notified by the advance's commit; this process's workers are woken here.
                    _journal.AnnounceWorkLocally();
                }
                else
                {
                    await _journal.AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            return discovery;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _checkpoint = null;
            if (claim)
            {
                // A claim sent with the advance may have committed unseen: those leases are this loop's own, so the
                // caller's own claim takes them again, and the next cycle hands back whatever it still holds.
                _leftLeases = true;
            }

            _logger.DiscoveryFailed(Holder, e);
            return new Discovery(0, false, 0, null);
        }
    }

    /// <summary>
    /// Reads the settled feed from the group's checkpoint, maps each event to its targets and raises their work marks,
    /// then advances the checkpoint, all in one transaction. Any worker may do this at any time: the advance is a
    /// compare-and-set, so workers discovering at once never lose or skip a mark, no worker's death stalls discovery, and
    /// a second worker finds (and claims) fresh work of its own instead of waiting for one discoverer's leftovers.
    /// </summary>
    /// <returns>How many events this call read from the feed.</returns>
    public async Task<int> CorrelateAsync(CancellationToken cancellationToken = default)
        => (await CorrelatePageAsync(claim: false, cancellationToken).ConfigureAwait(false)).Read;

    private async Task<Discovery> CorrelatePageAsync(bool claim, CancellationToken cancellationToken)
    {
        if (_inDatabase is { } inDatabase)
        {
            return await DiscoverInDatabaseAsync(inDatabase, claim, cancellationToken).ConfigureAwait(false);
        }

        // Another worker may have read past this loop's position since: then the page is read again from where the
        // checkpoint is now, a few times at most (a worker that keeps losing still claims what the others found).
        for (var attempt = 1; ; attempt++)
        {
            var checkpoint = await CheckpointAsync(cancellationToken).ConfigureAwait(false);
            var limit = _pageSize.Next;
            var page = await StepAsync(
                () => ReadCorrelationPageAsync(checkpoint, limit, cancellationToken),
                redoable: true,
                cancellationToken).ConfigureAwait(false);
            _pageSize.Observe(page.Events.Count);
            var marks = new List<WorkMark>();
            foreach (var e in page.Events)
            {
                foreach (var reaction in _registry.Reactions)
                {
                    if (reaction.Names.Contains(e.Name) && reaction.Resolve(e) is { } target)
                    {
                        marks.Add(new WorkMark(new Subscription(target.Stream, target.Source, reaction.Priority, reaction.Lane), e.Position));
                    }
                }
            }

            // A short page saw every matching event below the fence, so the checkpoint may move up to it even when
            // nothing matched: the next read starts there instead of rescanning unrelated events.
            var next = page.ContinueAfter;
            var worthWriting = page.Events.Count > 0 || Stopwatch.GetElapsedTime(_skippedAheadAt) >= SkipAheadInterval;
            if (next <= checkpoint || !worthWriting)
            {
                return new Discovery(page.Events.Count, page.Settling, 0, null);
            }

            CheckpointAdvance advance;
            Claimed? claimed = null;
            if (claim)
            {
                // The claim rides with the advance: one round trip fewer between the feed read and the handlers.
                (advance, claimed) = await WithClaimAsync(
                    (lagging, leading) => _leases.AdvanceCheckpointAndClaimAsync(
                        _options.Name, checkpoint, next, marks, _workNotification, lagging, leading, Holder, _options.LeaseDuration, _options.Lane, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Redoable: the compare-and-set applies once, and raising marks never lowers one.
                advance = await StepAsync(
                    () => _leases.AdvanceCheckpointAsync(_options.Name, checkpoint, next, marks, _workNotification, cancellationToken),
                    redoable: true,
                    cancellationToken)
                    .ConfigureAwait(false);
            }

            if (advance.Advanced)
            {
                _checkpoint = next;
                _skippedAheadAt = Stopwatch.GetTimestamp();
                return new Discovery(page.Events.Count, page.Settling, marks.Count, claimed);
            }

            // Past this page (another worker read it), or behind where this loop read from (a crash lost the last
            // asynchronous advances, whose marks went with them): read on from where the checkpoint really is. A row
            // lost in the crash reads as where this loop started, and is created again by the next read.
            _checkpoint = advance.Position == checkpoint ? null : advance.Position;
            if (advance.Position > checkpoint)
            {
                _sharedAt = Stopwatch.GetTimestamp();
            }

            // With the claim made (it took what the other workers marked), the next page waits for the next cycle.
            if (attempt == MaxDiscoveryAttempts || claimed is not null)
            {
                return new Discovery(page.Events.Count, page.Settling, 0, claimed);
            }
        }
    }

    /// <summary>
    /// <see cref="CorrelatePageAsync"/> without the client round trip, for reactions that target the event's own stream:
    /// one statement reads the settled feed page after the checkpoint (under the journal's fence), raises each stream's
    /// mark, advances the checkpoint (the same compare-and-set) and announces the work; the claim rides in its batch. The
    /// events never leave the database. The loop keeps its rules: the page size, the cached checkpoint (read by the
    /// statement itself when there is none, or while other workers discover too), skipping ahead at most every
    /// <see cref="SkipAheadInterval"/>, and reading on after a lost race.
    /// </summary>
    private async Task<Discovery> DiscoverInDatabaseAsync(OwnStreamDiscovery statement, bool claim, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var from = CachedCheckpoint();
            var limit = _pageSize.Next;
            var skipAhead = Stopwatch.GetElapsedTime(_skippedAheadAt) >= SkipAheadInterval;
            FeedDiscovery found;
            Claimed? claimed = null;
            if (claim)
            {
                (found, claimed) = await WithClaimAsync(
                    (lagging, leading) => _leases.DiscoverAndClaimAsync(
                        statement, _options.Name, from, limit, skipAhead, _workNotification,
                        lagging, leading, Holder, _options.LeaseDuration, _options.Lane, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Redoable: the compare-and-set applies once, and raising marks never lowers one.
                found = await StepAsync(
                    () => _leases.DiscoverAsync(statement, _options.Name, from, limit, skipAhead, _workNotification, cancellationToken),
                    redoable: true,
                    cancellationToken).ConfigureAwait(false);
            }

            _pageSize.Observe(found.Read);
            if (found.Advance.Advanced)
            {
                _checkpoint = found.To;
                _skippedAheadAt = Stopwatch.GetTimestamp();
                return new Discovery(found.Read, found.Settling, found.Marked, claimed);
            }

            if (!found.WorthWriting)
            {
                _checkpoint = found.From;
                return new Discovery(found.Read, found.Settling, 0, claimed);
            }

            // As in CorrelatePageAsync: past this page (another worker read it), or behind where it started (a crash).
            _checkpoint = found.Advance.Position == found.From ? null : found.Advance.Position;
            if (found.Advance.Position > found.From)
            {
                _sharedAt = Stopwatch.GetTimestamp();
            }

            if (attempt == MaxDiscoveryAttempts || claimed is not null)
            {
                return new Discovery(found.Read, found.Settling, 0, claimed);
            }
        }
    }

    /// <summary>
    /// The discovery statement when it can run in the database: every reaction targets the event's own stream, and the
    /// lease store reaches the journal's table (one database, one role); otherwise <c>null</c>. Each event name's
    /// targets get the priority and lane of the first reaction that handles it, as in the loop's own mapping (marks
    /// merged per target keep the first of the highest position).
    /// </summary>
    private static OwnStreamDiscovery? InDatabase(JournalStore journal, LeaseStore leases, ReactionRegistry registry, bool sharesDatabase)
    {
        if (!registry.ResolvesOwnStreamsOnly || !sharesDatabase || !SharesRole(journal, leases))
        {
            return null;
        }

        var names = new List<(string, int, string)>();
        foreach (var name in registry.Names)
        {
            var first = registry.Reactions.First(r => r.Names.Contains(name));
            names.Add((name, first.Priority, first.Lane));
        }

        return leases.OwnStreamDiscovery(journal, names);
    }

    /// <summary>Whether the two stores connect as the same role (the lease store's then may read the events table).</summary>
    private static bool SharesRole(JournalStore journal, LeaseStore leases)
        => ReferenceEquals(journal.DataSource, leases.DataSource)
           || string.Equals(
               new NpgsqlConnectionStringBuilder(journal.DataSource.ConnectionString).Username,
               new NpgsqlConnectionStringBuilder(leases.DataSource.ConnectionString).Username,
               StringComparison.Ordinal);

    /// <summary>
    /// Sends a discovery step with the cycle's claim in its round trip, sized by <see cref="ClaimSize"/>; the claim's leases
    /// start when it is sent. Not redoable (a claim is not): only a statement the server dropped unrun is sent again.
    /// </summary>
    private async Task<(T Result, Claimed Claimed)> WithClaimAsync<T>(
        Func<int, int, Task<(T, ClaimedLeases)>> send, CancellationToken cancellationToken)
    {
        var (lagging, leading) = _claimSize.Next();
        _lastAsked = lagging + leading;
        var sentAt = Stopwatch.GetTimestamp();
        var (result, leases) = await StepAsync(() => send(lagging, leading), redoable: false, cancellationToken).ConfigureAwait(false);
        return (result, new Claimed(leases, sentAt));
    }

    /// <summary>
    /// Whether the lease store and the journal use one database (the same data source, or the same host, port and
    /// database), so a NOTIFY sent with the lease writes reaches the journal's commit listeners.
    /// </summary>
    private static bool SharesDatabase(JournalStore journal, LeaseStore leases)
    {
        if (ReferenceEquals(journal.DataSource, leases.DataSource))
        {
            return true;
        }

        var a = new NpgsqlConnectionStringBuilder(journal.DataSource.ConnectionString);
        var b = new NpgsqlConnectionStringBuilder(leases.DataSource.ConnectionString);
        return string.Equals(a.Host, b.Host, StringComparison.Ordinal) && a.Port == b.Port
            && string.Equals(a.Database, b.Database, StringComparison.Ordinal);
    }

    /// <summary>
    /// Hands back every target lease this loop still holds (a cycle stopped between claim and ack leaves some), so other
    /// workers handle that work at once instead of after the leases run out. Call when the loop stops for good, after
    /// its last cycle ended; best effort.
    /// </summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        await _leases.ReleaseOwnAsync(Holder, cancellationToken).ConfigureAwait(false);
        _leftLeases = false;
    }

    /// <summary>
    /// The checkpoint as this loop last left it, or read afresh when it has none (first cycle, or after a failure or a
    /// lost connection, when a server crash may have lost its last advances) or other workers were recently found
    /// discovering too. A stale position costs at most one extra page: the advance compares it with the stored one.
    /// </summary>
    private async Task<long> CheckpointAsync(CancellationToken cancellationToken)
    {
        if (CachedCheckpoint() is { } cached)
        {
            return cached;
        }

        var read = await StepAsync(() => _leases.ReadCheckpointAsync(_options.Name, cancellationToken), redoable: true, cancellationToken)
            .ConfigureAwait(false);
        _checkpoint = read;
        return read;
    }

    /// <summary>The cached checkpoint, unless it should be read afresh (see <see cref="CheckpointAsync"/>).</summary>
    private long? CachedCheckpoint()
        => _checkpoint is { } cached && (_sharedAt is not { } shared || Stopwatch.GetElapsedTime(shared) >= SharedFor) ? cached : null;
}

/// <summary>What a discovery step did: events read, whether the feed was settling, marks raised, and the claim sent with the advance.</summary>
internal readonly record struct Discovery(int Read, bool Settling, int Found, Claimed? Claimed);

/// <summary>Leases claimed, and when their claim was sent (their lease time started then).</summary>
internal sealed record Claimed(ClaimedLeases Leases, long SentAt);

