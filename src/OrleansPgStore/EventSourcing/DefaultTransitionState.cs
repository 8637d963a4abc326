using System.Collections.Concurrent;
using System.Reflection;
using Orleans.EventSourcing;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Whether <c>JournaledGrain</c>'s default <c>TransitionState</c>, which calls <c>state.Apply(event)</c> through
/// <c>dynamic</c>, finds an <c>Apply</c> for an event. When it finds none, Orleans only logs a warning: the event is
/// stored and counted in the version, yet never changes the state. Such an event is refused instead.
/// </summary>
internal static class DefaultTransitionState
{
    private static readonly ConcurrentDictionary<(Type Grain, Type State, Type LogEntry, Type Event), string?> Verdicts = new();

    /// <summary>
    /// Why an event of type <paramref name="eventType"/> would change nothing; null when the state has an <c>Apply</c>
    /// for it, or when the grain overrides <c>TransitionState</c> (or is no JournaledGrain) and so applies events itself.
    /// </summary>
    public static string? WhyNotApplied(Type grainType, Type stateType, Type logEntryType, Type eventType)
        => Verdicts.GetOrAdd((grainType, stateType, logEntryType, eventType), static key => Judge(key.Grain, key.State, key.LogEntry, key.Event));

    private static string? Judge(Type grainType, Type stateType, Type logEntryType, Type eventType)
    {
        var transition = grainType.GetMethod(
            "TransitionState", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [stateType, logEntryType]);
        var isDefault = transition?.DeclaringType is { IsGenericType: true } declaring
            && declaring.GetGenericTypeDefinition() == typeof(JournaledGrain<,>);
        if (!isDefault)
        {
            return null;
        }

        // What the runtime binder considers from JournaledGrain: public instance methods named Apply, inherited included.
        var applies = stateType.GetMethods(BindingFlags.Instance | BindingFlags.Public)
            .Any(m => m.Name == "Apply" && m.GetParameters() is [var parameter] && parameter.ParameterType.IsAssignableFrom(eventType));
        return applies
            ? null
            : $"{stateType} has no public Apply method taking {eventType}, and {grainType} does not override TransitionState, " +
              "whose default calls state.Apply(event): the event would be stored and counted, yet never change the state. " +
              $"Add Apply({eventType.Name}) to {stateType.Name}, or override TransitionState.";
    }
}
