using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

public sealed partial class ReactionLoop
{
    /// <summary>
    /// Reads the settled feed from the group's checkpoint, maps each event to its targets and raises their work
    /// marks, then advances the checkpoint, all in one transaction. One worker at a time holds the checkpoint's
    /// lease, so N workers do not each rescan the log; the others skip this step.
    /// </summary>
    /// <returns>How many events were read (0 when another worker holds the correlation).</returns>
    public async Task<int> CorrelateAsync(CancellationToken cancellationToken = default)
        => (await CorrelatePageAsync(cancellationToken).ConfigureAwait(false)).Read;

    private async Task<(int Read, bool Settling)> CorrelatePageAsync(CancellationToken cancellationToken)
    {
        var checkpoint = await _leases.TryAcquireCheckpointAsync(_options.Name, Holder, _options.LeaseDuration, cancellationToken)
            .ConfigureAwait(false);
        if (checkpoint is null)
        {
            return (0, false);
        }

        var page = await _journal.ReadFeedAsync(checkpoint.Value, long.MaxValue, _names, _options.CorrelationBatch, cancellationToken)
            .ConfigureAwait(false);
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
        var next = page.Events.Count < _options.CorrelationBatch
            ? Math.Max(checkpoint.Value, page.SettledBefore - 1)
            : page.Events[^1].Position;
        if (next > checkpoint.Value)
        {
            await _leases.AdvanceCheckpointAsync(_options.Name, Holder, next, marks, cancellationToken).ConfigureAwait(false);
        }

        return (page.Events.Count, page.Settling);
    }
}
