using System.Diagnostics;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

public sealed partial class ReactionLoop
{
    // Advancing the checkpoint past an empty stretch of the feed is a write; it only saves rescanning that stretch
    // (an index range with nothing in it), so it is done at most this often.
    private static readonly TimeSpan SkipAheadInterval = TimeSpan.FromSeconds(1);

    private long? _checkpoint;
    private long _checkpointRenewedAt;
    private long _skippedAheadAt;

    /// <summary>
    /// Step "discover": correlation, which never fails the cycle. Targets that already have marked work are claimed
    /// and handled even while the checkpoint cannot be read or advanced (a connection storm, a failover); the
    /// checkpoint is simply tried again next cycle. New work found here wakes the other workers (in this process
    /// and, through NOTIFY, in others), so they compete for it instead of waiting for their poll.
    /// </summary>
    private async Task<(int Read, bool Settling)> DiscoverAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (read, settling, found) = await CorrelatePageAsync(cancellationToken).ConfigureAwait(false);
            if (found > 0)
            {
                await _journal.AnnounceWorkAsync(cancellationToken).ConfigureAwait(false);
            }

            return (read, settling);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _checkpoint = null;
            _logger.DiscoveryFailed(Holder, e);
            return (0, false);
        }
    }

    /// <summary>
    /// Reads the settled feed from the group's checkpoint, maps each event to its targets and raises their work
    /// marks, then advances the checkpoint, all in one transaction. One worker at a time holds the checkpoint's
    /// lease, so N workers do not each rescan the log; the others skip this step.
    /// </summary>
    /// <returns>How many events were read (0 when another worker holds the correlation).</returns>
    public async Task<int> CorrelateAsync(CancellationToken cancellationToken = default)
        => (await CorrelatePageAsync(cancellationToken).ConfigureAwait(false)).Read;

    private async Task<(int Read, bool Settling, int Found)> CorrelatePageAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await CheckpointAsync(cancellationToken).ConfigureAwait(false);
        if (checkpoint is null)
        {
            return (0, false, 0);
        }

        var page = await StepAsync(
            () => ReadCorrelationPageAsync(checkpoint.Value, cancellationToken),
            redoable: true,
            cancellationToken).ConfigureAwait(false);
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
        var found = 0;
        if (next > checkpoint.Value && worthWriting)
        {
            // Redoable: raising marks and moving the checkpoint up are idempotent, and only the lease holder's count.
            if (await StepAsync(
                    () => _leases.AdvanceCheckpointAsync(_options.Name, Holder, next, marks, cancellationToken), redoable: true, cancellationToken)
                    .ConfigureAwait(false))
            {
                _checkpoint = next;
                _skippedAheadAt = Stopwatch.GetTimestamp();
                found = marks.Count;
            }
            else
            {
                _checkpoint = null; // the lease moved on: another worker correlates now
            }
        }

        return (page.Events.Count, page.Settling, found);
    }

    /// <summary>
    /// Releases the correlation checkpoint's lease if this loop holds it, and every target lease it still holds (a cycle
    /// stopped between claim and ack leaves some), so other workers discover and handle that work at once instead of
    /// after the leases run out. Call when the loop stops for good, after its last cycle ended; best effort.
    /// </summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (_checkpoint is not null)
        {
            _checkpoint = null;
            await _leases.ReleaseCheckpointAsync(_options.Name, Holder, cancellationToken).ConfigureAwait(false);
        }

        await _leases.ReleaseOwnAsync(Holder, cancellationToken).ConfigureAwait(false);
        _leftLeases = false;
    }

    /// <summary>
    /// The checkpoint, when this loop holds its lease. The lease is renewed (a write) only once a third of it has
    /// passed; in between, the position this loop last wrote is used, and advancing it re-checks the lease anyway.
    /// </summary>
    private async Task<long?> CheckpointAsync(CancellationToken cancellationToken)
    {
        if (_checkpoint is not null && Stopwatch.GetElapsedTime(_checkpointRenewedAt) < _options.LeaseDuration / 3)
        {
            return _checkpoint;
        }

        var renewedAt = Stopwatch.GetTimestamp();
        // Redoable: taking or renewing a lease this holder may already have is idempotent.
        _checkpoint = await StepAsync(
            () => _leases.TryAcquireCheckpointAsync(_options.Name, Holder, _options.LeaseDuration, cancellationToken),
            redoable: true,
            cancellationToken).ConfigureAwait(false);
        _checkpointRenewedAt = renewedAt;
        return _checkpoint;
    }
}
