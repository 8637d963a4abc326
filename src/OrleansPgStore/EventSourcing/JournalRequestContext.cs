using System.Diagnostics;
using Orleans.Runtime;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// The metadata a JournaledGrain's events are committed with: correlation id, causation and trace context, taken
/// from the call that raised them.
/// </summary>
/// <remarks>
/// <para>Defaults, per raised event, in the grain call that raised it:</para>
/// <list type="bullet">
/// <item><b>Correlation id</b>: the <see cref="RequestContext"/> value under <see cref="CorrelationIdKey"/>; else the
/// trace id of <see cref="Activity.Current"/> (so all events of one distributed trace share a correlation); else none.</item>
/// <item><b>Causation command</b>: the <see cref="RequestContext"/> value under <see cref="CausationKey"/>; else the
/// name of the current activity (Orleans names a grain call's span <c>IMyGrain/Method</c> when
/// <c>AddActivityPropagation()</c> is on); else none.</item>
/// <item><b>Trace parent</b>: the current activity's W3C id; the journal replaces it by the commit's own span when the
/// engine's <c>OrleansPgStore.Store</c> source is listened to.</item>
/// </list>
/// <para>Set a value for one call on the caller's side (<see cref="RequestContext"/> travels with grain calls), or inside
/// the grain before <c>RaiseEvent</c>: <c>JournalRequestContext.SetCorrelationId("order-17")</c>. Query by it with
/// <see cref="JournalQuery.CorrelationId"/>. Events raised by several calls that end up in one write (a reentrant grain)
/// share the metadata of the first of them.</para>
/// </remarks>
public static class JournalRequestContext
{
    /// <summary>The <see cref="RequestContext"/> key of the correlation id.</summary>
    public const string CorrelationIdKey = "orleanspgstore.correlation-id";

    /// <summary>The <see cref="RequestContext"/> key of the causing command's name or id.</summary>
    public const string CausationKey = "orleanspgstore.causation";

    /// <summary>Sets (or with <c>null</c> removes) the correlation id for the rest of this call and the calls it makes.</summary>
    public static void SetCorrelationId(string? correlationId) => Set(CorrelationIdKey, correlationId);

    /// <summary>Sets (or with <c>null</c> removes) the causing command for the rest of this call and the calls it makes.</summary>
    public static void SetCausation(string? command) => Set(CausationKey, command);

    /// <summary>The metadata of an event raised now, in the current call.</summary>
    internal static EventMetadata Capture()
    {
        var activity = Activity.Current;
        var correlation = RequestContext.Get(CorrelationIdKey) as string
            ?? (activity is { IdFormat: ActivityIdFormat.W3C } ? activity.TraceId.ToHexString() : null);
        var command = RequestContext.Get(CausationKey) as string ?? activity?.DisplayName;
        var traceParent = activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null;
        if (correlation is null && command is null && traceParent is null)
        {
            return EventMetadata.None;
        }

        return new EventMetadata(
            correlation,
            command is null && traceParent is null ? null : new EventCausation(Command: command, TraceParent: traceParent));
    }

    private static void Set(string key, string? value)
    {
        if (value is null)
        {
            RequestContext.Remove(key);
        }
        else
        {
            RequestContext.Set(key, value);
        }
    }
}
