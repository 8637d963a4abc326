using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>Events handed to a batch handler together: all the events of one page for one target, in order.</summary>
public sealed class ReactionBatch
{
    /// <summary>Creates the value.</summary>
    /// <param name="Target">See <see cref="Target"/>.</param>
    /// <param name="Events">See <see cref="Events"/>.</param>
    /// <param name="Attempt">See <see cref="Attempt"/>.</param>
    public ReactionBatch(string Target, IReadOnlyList<RecordedEvent> Events, long Attempt)
    {
        this.Target = Target;
        this.Events = Events;
        this.Attempt = Attempt;
    }

    /// <summary>The target stream.</summary>
    public string Target { get; }

    /// <summary>The events, in position order.</summary>
    public IReadOnlyList<RecordedEvent> Events { get; }

    /// <summary>0 on the first attempt, then 1, 2, ... after failures or expired leases.</summary>
    public long Attempt { get; }
}
