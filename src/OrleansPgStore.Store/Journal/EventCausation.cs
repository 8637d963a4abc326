namespace OrleansPgStore.Store.Journal;

/// <summary>What caused an event: another event (by position, stream and name) or a command.</summary>
/// <param name="EventPosition">Global position of the causing event.</param>
/// <param name="EventStream">Stream of the causing event.</param>
/// <param name="EventName">Name of the causing event.</param>
/// <param name="Command">Name or id of the causing command.</param>
public sealed record EventCausation(
    long? EventPosition = null,
    string? EventStream = null,
    string? EventName = null,
    string? Command = null)
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
