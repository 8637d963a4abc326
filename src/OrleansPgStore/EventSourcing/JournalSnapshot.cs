using System.Text.Json;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// The payload of a grain's snapshot row: <c>{"grainVersion": n, "state": {…}}</c>. The grain version (the number of
/// events since the log was last cleared) is stored because it differs from the stream version after a clear.
/// </summary>
internal static class JournalSnapshot
{
    private const string GrainVersionProperty = "grainVersion";
    private const string StateProperty = "state";

    public static string Write<TState>(int grainVersion, TState state, JsonSerializerOptions options)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber(GrainVersionProperty, grainVersion);
            writer.WritePropertyName(StateProperty);
            JsonSerializer.Serialize(writer, state, options);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The grain version a snapshot payload records, or <c>null</c> when the payload has none.</summary>
    public static int? GrainVersion(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(GrainVersionProperty, out var version)
                && version.TryGetInt32(out var grainVersion) && grainVersion >= 0
                ? grainVersion
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <exception cref="JsonException">The payload is not a snapshot of this shape or the state does not deserialize.</exception>
    public static (int GrainVersion, TState? State) Read<TState>(string json, JsonSerializerOptions options)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty(GrainVersionProperty, out var version)
            || !version.TryGetInt32(out var grainVersion)
            || grainVersion < 0
            || !root.TryGetProperty(StateProperty, out var state))
        {
            throw new JsonException($"A journal snapshot must be an object with '{GrainVersionProperty}' and '{StateProperty}'.");
        }

        return (grainVersion, state.Deserialize<TState>(options));
    }
}
