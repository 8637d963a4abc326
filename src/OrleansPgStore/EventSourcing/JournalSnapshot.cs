using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Session;
using Orleans.Serialization.TypeSystem;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Writes and reads the payload of a grain's snapshot row:
/// <c>{"grainVersion": n, "format": "orleans", "type": "…", "state": "&lt;base64&gt;"}</c>.
/// </summary>
/// <remarks>
/// <para>A snapshot is a cache of what replaying the events gives, not an interface, so the state is stored with Orleans'
/// own serializer: the grain state supports it anyway (Orleans copies it), and it keeps everything Orleans keeps —
/// tuples, big integers, collection order, comparers, subtypes. Faithful by construction; not meant for SQL.</para>
/// <para>The grain version (events since the log was last cleared) stays readable JSON: it differs from the stream
/// version after a clear, and rebuilding an unreadable snapshot from its events needs it. <c>type</c> is Orleans' name
/// of the state type (its <c>[Alias]</c> when it has one), so a snapshot is never read as another type.</para>
/// <para>Snapshots written before this format (no <c>format</c>) held the state as JSON; see <see cref="ReadLegacy"/>.</para>
/// <para>Thread-safe.</para>
/// </remarks>
internal sealed class JournalSnapshot
{
    /// <summary>The <c>format</c> of snapshots whose state is Orleans' binary serialization, in base64.</summary>
    public const string OrleansFormat = "orleans";

    private const string GrainVersionProperty = "grainVersion";
    private const string FormatProperty = "format";
    private const string TypeProperty = "type";
    private const string StateProperty = "state";

    private readonly Serializer _serializer;
    private readonly SerializerSessionPool _sessions;
    private readonly TypeConverter _types;
    private readonly JsonSerializerOptions _legacyJson;
    private readonly ConcurrentDictionary<Type, string> _typeNames = new();

    public JournalSnapshot(Serializer serializer, SerializerSessionPool sessions, TypeConverter types, JsonSerializerOptions legacyJson)
    {
        _serializer = serializer;
        _sessions = sessions;
        _types = types;
        _legacyJson = legacyJson;
    }

    /// <summary>The snapshot payload of <paramref name="state"/> at <paramref name="grainVersion"/>.</summary>
    /// <exception cref="Exception">Orleans cannot serialize the state (e.g. a member type without a codec).</exception>
    public string Write<TState>(int grainVersion, TState state)
    {
        var bytes = _serializer.SerializeToArray(state);
        var buffer = new ArrayBufferWriter<byte>(bytes.Length * 4 / 3 + 128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber(GrainVersionProperty, grainVersion);
            writer.WriteString(FormatProperty, OrleansFormat);
            writer.WriteString(TypeProperty, TypeName(typeof(TState)));
            writer.WriteBase64String(StateProperty, bytes);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a snapshot written by <see cref="Write"/> for the same state type.</summary>
    /// <exception cref="UnreadableSnapshotException">Anything else: another format or type, corrupt bytes, a state Orleans no
    /// longer deserializes. It carries the grain version when the payload has a readable one.</exception>
    public (int GrainVersion, TState? State) Read<TState>(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UnreadableSnapshotException($"it is not JSON ({e.Message})", null, null, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new UnreadableSnapshotException($"it is a JSON {root.ValueKind}, not an object", null, null);
            }

            int? grainVersion = root.TryGetProperty(GrainVersionProperty, out var version)
                && version.TryGetInt32(out var v) && v >= 0 ? v : null;
            root.TryGetProperty(StateProperty, out var stateElement);
            if (!root.TryGetProperty(FormatProperty, out var format))
            {
                // Written before snapshots used Orleans' serializer: the state is JSON, which may have lost members.
                throw new UnreadableSnapshotException(
                    "it is in the JSON format of earlier versions, which could lose members (tuples, comparers, …)",
                    grainVersion,
                    stateElement.ValueKind == JsonValueKind.Undefined ? null : stateElement.GetRawText());
            }

            if (format.ValueKind != JsonValueKind.String || format.GetString() != OrleansFormat)
            {
                throw new UnreadableSnapshotException($"its format {format.GetRawText()} is not \"{OrleansFormat}\"", grainVersion, null);
            }

            var expectedType = TypeName(typeof(TState));
            var storedType = root.TryGetProperty(TypeProperty, out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
            if (storedType != expectedType)
            {
                throw new UnreadableSnapshotException($"it holds a state of type '{storedType}', not '{expectedType}'", grainVersion, null);
            }

            if (grainVersion is null)
            {
                throw new UnreadableSnapshotException($"it has no valid '{GrainVersionProperty}'", null, null);
            }

            if (stateElement.ValueKind != JsonValueKind.String || !stateElement.TryGetBytesFromBase64(out var bytes))
            {
                throw new UnreadableSnapshotException($"its '{StateProperty}' is not base64", grainVersion, null);
            }

            try
            {
                return (grainVersion.Value, Deserialize<TState>(bytes));
            }
            catch (Exception e) when (e is not UnreadableSnapshotException)
            {
                throw new UnreadableSnapshotException($"Orleans cannot deserialize it ({e.GetType().Name}: {e.Message})", grainVersion, null, e);
            }
        }
    }

    /// <summary>Reads the JSON state of a snapshot written before snapshots used Orleans' serializer.</summary>
    /// <exception cref="JsonException">The state type no longer reads it.</exception>
    /// <exception cref="NotSupportedException">The state type cannot be read from JSON.</exception>
    public TState? ReadLegacy<TState>(string stateJson) => JsonSerializer.Deserialize<TState>(stateJson, _legacyJson);

    private TState? Deserialize<TState>(byte[] bytes)
    {
        using var session = _sessions.GetSession();
        var reader = Reader.Create(bytes, session);
        var state = _serializer.Deserialize<TState, SpanReaderInput>(ref reader);
        // Orleans stops at the end of the value; anything left over means the bytes are not one state.
        return reader.Position == bytes.Length
            ? state
            : throw new InvalidDataException($"{bytes.Length - reader.Position} byte(s) follow the serialized state");
    }

    private string TypeName(Type type) => _typeNames.GetOrAdd(type, static (t, types) => types.Format(t), _types);
}
