using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Serialization;

/// <summary>
/// Turns events into journal rows and back exactly as a journal provider does: stored names from
/// <see cref="EventTypeNames"/>, the lossless Orleans-aware JSON contract, schema stamps, upcasters and strict reads.
/// </summary>
/// <remarks>
/// <para>The JournaledGrain adaptor reads every event (activation, <c>RetrieveConfirmedEvents</c>) through this class;
/// use the same instance for queries and in reaction handlers, so they read old events exactly as the grains do:
/// <c>services.GetRequiredKeyedService&lt;JournalEventSerializer&gt;("Postgres").Deserialize&lt;AccountEvent&gt;(e)</c>,
/// or <c>PostgresLogConsistencyProvider.Events</c>.</para>
/// <para>Thread-safe.</para>
/// </remarks>
public sealed class JournalEventSerializer
{
    private readonly ConcurrentDictionary<Type, int?> _schemaVersions = new();

    internal JournalEventSerializer(EventTypeNames typeNames, JsonSerializerOptions options, EventUpcasters upcasters)
    {
        TypeNames = typeNames;
        Options = options;
        Upcasters = upcasters;
    }

    /// <summary>How event types are named in the journal.</summary>
    internal EventTypeNames TypeNames { get; }

    /// <summary>The read-only System.Text.Json settings events are written and read with.</summary>
    internal JsonSerializerOptions Options { get; }

    /// <summary>The upcasters applied before an event is deserialized.</summary>
    internal EventUpcasters Upcasters { get; }

    /// <summary>Serializes <paramref name="event"/> under its stored name, stamped with its schema version if it declares one.</summary>
    /// <exception cref="NotSupportedException">The event's type cannot be stored faithfully; the message names type and member.</exception>
    /// <exception cref="JsonException">System.Text.Json could not write the event.</exception>
    public EventData Serialize(object @event, Guid? id = null)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var type = @event.GetType();
        var name = TypeNames.GetName(type);
        WriteChecks.EnsureRoot(@event, type, Options);
        string json;
        if (SchemaVersion(type) is not { } version)
        {
            json = JsonSerializer.Serialize(@event, type, Options);
        }
        else
        {
            var payload = JsonSerializer.SerializeToNode(@event, type, Options) as JsonObject
                ?? throw new JsonException($"Event type {type} with a schema version must serialize to a JSON object.");
            payload[EventUpcasters.SchemaVersionProperty] = version;
            json = payload.ToJsonString(Options);
        }

        UnpairedSurrogates.EnsureNone(json, @event, type, Options);
        return new EventData(name, json, id);
    }

    /// <summary>Reads an event as the type its (upcast) name resolves to, which must be assignable to <typeparamref name="T"/>.</summary>
    /// <inheritdoc cref="Deserialize(RecordedEvent, Type)" path="/exception"/>
    public T Deserialize<T>(RecordedEvent recorded) where T : class => (T)Deserialize(recorded, typeof(T));

    /// <summary>Reads an event: upcasts it, resolves its type by name (assignable to <paramref name="baseType"/>) and
    /// deserializes it strictly.</summary>
    /// <exception cref="JsonException">The event cannot be read; the message names stream, version, event name and the
    /// member or reason.</exception>
    public object Deserialize(RecordedEvent recorded, Type baseType)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(baseType);
        var where = $"Event '{recorded.Name}' at version {recorded.Version} of stream '{recorded.Stream}'";
        Type? type = null;
        try
        {
            var name = recorded.Name;
            JsonObject? payload = null;
            int? stored = null;
            if (Upcasters.Handles(name))
            {
                var upcast = Upcasters.Upcast(recorded);
                (name, stored, payload) = (upcast.Name, upcast.SchemaVersion, upcast.Payload);
            }

            type = TypeNames.Resolve(name, baseType) ?? throw new JsonException(
                $"The name '{name}' names no loaded type assignable to {baseType}; register the name in TypeNames, " +
                "restore the type's [Alias], or register an upcaster that renames it.");
            var current = SchemaVersion(type);
            if (payload is null && current is not null)
            {
                payload = JsonNode.Parse(recorded.Json) as JsonObject ?? throw new JsonException("The payload is not a JSON object.");
                stored = EventUpcasters.TakeSchemaVersion(payload, name);
            }

            if (stored is { } version && version != (current ?? 1))
            {
                throw new JsonException(version > (current ?? 1)
                    ? $"It was written at schema version {version}, newer than {type}'s {current ?? 1}."
                    : $"It is at schema version {version} and {type} at {current}; register an upcaster for '{name}' from version {version}.");
            }

            var value = payload is not null
                ? payload.Deserialize(type, Options)
                : JsonSerializer.Deserialize(recorded.Json, type, Options);
            return value ?? throw new JsonException("The payload is null.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new JsonException($"{where} cannot be read{(type is null ? "" : $" as {type}")}: {StoredJsonErrors.Describe(e)}", e);
        }
    }

    private int? SchemaVersion(Type type)
        => _schemaVersions.GetOrAdd(type, static t => t.GetCustomAttribute<EventSchemaVersionAttribute>(inherit: false)?.Version);
}
