namespace OrleansPgStore.Store.Journal;

/// <summary>What caused an event: another event (by position, stream and name) or a command.</summary>
/// <param name="EventPosition">Global position of the causing event.</param>
/// <param name="EventStream">Stream of the causing event.</param>
/// <param name="EventName">Name of the causing event.</param>
/// <param name="Command">Name or id of the causing command.</param>
/// <param name="TraceParent">
/// The W3C <c>traceparent</c> of the operation that committed the event: the commit's span when the engine's
/// <see cref="System.Diagnostics.ActivitySource"/> is listened to, else the caller's
/// <see cref="System.Diagnostics.Activity.Current"/>. Filled in by the commit when not given; a reaction's span links
/// to it, so one trace runs from the call that raised an event to the handler that reacted to it. A value given here
/// becomes the commit span's parent.
/// </param>
public sealed record EventCausation(
    long? EventPosition = null,
    string? EventStream = null,
    string? EventName = null,
    string? Command = null,
    string? TraceParent = null)
{
    /// <summary>Causation by a recorded event.</summary>
    public static EventCausation FromEvent(RecordedEvent cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return new(cause.Position, cause.Stream, cause.Name);
    }

    /// <summary>Causation by a command.</summary>
    public static EventCausation FromCommand(string command) => new(Command: command);
}
