using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansPgStore.Store.Journal;

/// <summary>
/// Turns stored event payloads written by older code into the shape the current code reads: functions on the JSON,
/// keyed by the stored event name and, optionally, the schema version stamped in the payload at write.
/// </summary>
/// <remarks>
/// <para>Orleans-free, so that every reader of the journal can apply the same upcasters: the JournaledGrain adaptor,
/// queries and reaction handlers (through the plugin's <c>JournalEventSerializer</c>), or code using the engine alone
/// (<see cref="Upcast(string, JsonObject)"/>).</para>
/// <para><b>Schema versions.</b> A writer may stamp a payload with <c>"$v": n</c> (<see cref="SchemaVersionProperty"/>).
/// A payload without the stamp is at version 1. An upcaster registered for version <c>n</c> turns a payload at
/// version <c>n</c> into one at <c>n + 1</c>; upcasters chain until none matches.</para>
/// <para><b>Unversioned upcasters</b> apply once to every payload stored under their name, before the versioned ones,
/// so they must leave a payload that is already current unchanged (e.g. "rename <c>amt</c> if present").</para>
/// <para><b>Renames</b> move a stored name to another (a type whose stored name changed); the upcasters of the new name
/// then apply. Register everything before the silo starts; reading is thread-safe.</para>
/// </remarks>
public sealed class EventUpcasters
{
    /// <summary>The payload member holding the schema version a writer stamped (absent: version 1).</summary>
    internal const string SchemaVersionProperty = "$v";

    private const int MaxSteps = 1000;

    private readonly Dictionary<string, Func<JsonObject, JsonObject>> _unversioned = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, int Version), Func<JsonObject, JsonObject>> _versioned = [];
    private readonly Dictionary<string, string> _renames = new(StringComparer.Ordinal);

    /// <summary>True when no upcaster is registered.</summary>
    internal bool IsEmpty => _unversioned.Count == 0 && _versioned.Count == 0 && _renames.Count == 0;

    /// <summary>Upcasts every payload stored under <paramref name="eventName"/>, whatever its schema version.</summary>
    /// <exception cref="ArgumentException">An upcaster is already registered for the name.</exception>
    public EventUpcasters Add(string eventName, Func<JsonObject, JsonObject> upcast)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(upcast);
        if (!_unversioned.TryAdd(eventName, upcast))
        {
            throw new ArgumentException($"An upcaster for event '{eventName}' is already registered.", nameof(eventName));
        }

        return this;
    }

    /// <summary>
    /// Upcasts payloads stored under <paramref name="eventName"/> at <paramref name="schemaVersion"/> (1 for payloads
    /// written without a stamp) to <paramref name="schemaVersion"/> + 1.
    /// </summary>
    /// <exception cref="ArgumentException">An upcaster is already registered for the name and version.</exception>
    public EventUpcasters Add(string eventName, int schemaVersion, Func<JsonObject, JsonObject> upcast)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentOutOfRangeException.ThrowIfLessThan(schemaVersion, 1);
        ArgumentNullException.ThrowIfNull(upcast);
        if (!_versioned.TryAdd((eventName, schemaVersion), upcast))
        {
            throw new ArgumentException(
                $"An upcaster for event '{eventName}' at schema version {schemaVersion} is already registered.", nameof(schemaVersion));
        }

        return this;
    }

    /// <summary>Reads events stored under <paramref name="eventName"/> as <paramref name="newName"/>.</summary>
    /// <exception cref="ArgumentException">The name is already renamed, or renamed to itself.</exception>
    public EventUpcasters Rename(string eventName, string newName)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentException.ThrowIfNullOrEmpty(newName);
        if (string.Equals(eventName, newName, StringComparison.Ordinal) || !_renames.TryAdd(eventName, newName))
        {
            throw new ArgumentException($"Event '{eventName}' is already renamed, or renamed to itself.", nameof(eventName));
        }

        return this;
    }

    /// <summary>True when a payload stored under <paramref name="eventName"/> may be changed by an upcaster.</summary>
    internal bool Handles(string eventName)
        => _unversioned.ContainsKey(eventName) || _renames.ContainsKey(eventName) || _versioned.Keys.Any(k => k.Name == eventName);

    /// <summary>Upcasts a stored event; the payload returned has no schema stamp.</summary>
    /// <exception cref="JsonException">The payload is not a JSON object, or its stamp is not a positive integer.</exception>
    /// <exception cref="InvalidOperationException">The upcasters loop (a rename cycle).</exception>
    internal UpcastEvent Upcast(RecordedEvent recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        return JsonNode.Parse(recorded.Json) is JsonObject payload
            ? Upcast(recorded.Name, payload)
            : throw new JsonException($"The payload of event '{recorded.Name}' is not a JSON object.");
    }

    /// <summary>Upcasts a payload stored under <paramref name="eventName"/>; changes and returns it without its stamp.</summary>
    /// <inheritdoc cref="Upcast(RecordedEvent)" path="/exception"/>
    internal UpcastEvent Upcast(string eventName, JsonObject payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(payload);
        var version = TakeSchemaVersion(payload, eventName);
        var name = eventName;
        var unversionedDone = false;
        for (var step = 0; step < MaxSteps; step++)
        {
            if (!unversionedDone && _unversioned.TryGetValue(name, out var first))
            {
                payload = Checked(first(payload), name);
                unversionedDone = true;
            }
            else if (_versioned.TryGetValue((name, version), out var upcast))
            {
                payload = Checked(upcast(payload), name);
                version++;
            }
            else if (_renames.TryGetValue(name, out var renamed))
            {
                name = renamed;
                unversionedDone = false;
            }
            else
            {
                return new UpcastEvent(name, version, payload);
            }
        }

        throw new InvalidOperationException($"The upcasters of event '{eventName}' do not terminate (a rename cycle?).");
    }

    /// <summary>Removes the stamp from a payload and returns its version (1 when absent).</summary>
    /// <exception cref="JsonException">The stamp is not a positive integer.</exception>
    internal static int TakeSchemaVersion(JsonObject payload, string eventName)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (!payload.Remove(SchemaVersionProperty, out var stamp))
        {
            return 1;
        }

        return stamp is JsonValue value && value.TryGetValue<int>(out var version) && version >= 1
            ? version
            : throw new JsonException($"Event '{eventName}' has a '{SchemaVersionProperty}' that is not a positive integer: {stamp?.ToJsonString()}.");
    }

    private static JsonObject Checked(JsonObject? payload, string name)
        => payload ?? throw new InvalidOperationException($"An upcaster of event '{name}' returned null.");
}
