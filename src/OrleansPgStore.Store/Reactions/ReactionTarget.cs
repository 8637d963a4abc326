using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>Where an event is handled: the target stream (the unit of ordering and leasing) and the stream feeding it.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Source">The stream whose events feed the target; <c>null</c> for every stream (e.g. one projection over many streams).</param>
public sealed record ReactionTarget(string Stream, string? Source)
{
    /// <summary>The default: each event is handled in its own stream, so every source stream is processed in order.</summary>
    public static ReactionTarget OwnStream(RecordedEvent e) => new(e.Stream, e.Stream);
}
