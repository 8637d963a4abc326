using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Serialization;

/// <summary>
/// The schema version of an event type's payload, stamped into every payload written (<c>"$v": n</c>) so upcasters
/// can tell old payloads from current ones. Payloads written before a type had the attribute are at version 1.
/// </summary>
/// <remarks>Raise the version when the payload's shape changes, and register an upcaster from the previous version in
/// <c>Upcasters</c> (<see cref="EventUpcasters.Add(string, int, Func{System.Text.Json.Nodes.JsonObject, System.Text.Json.Nodes.JsonObject})"/>).</remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class EventSchemaVersionAttribute : Attribute
{
    /// <summary>Declares the current schema version of the event type.</summary>
    /// <param name="version">The version, 1 or more.</param>
    public EventSchemaVersionAttribute(int version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        Version = version;
    }

    /// <summary>The current schema version.</summary>
    public int Version { get; }
}
