using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansPgStore.Serialization;

/// <summary>
/// Refuses strings holding a lone UTF-16 surrogate: System.Text.Json silently writes U+FFFD in its place, and
/// PostgreSQL's <c>jsonb</c> could not store one anyway.
/// </summary>
/// <remarks>Free on the hot path: only a JSON text that contains U+FFFD (rare) is serialized again with a converter that
/// checks every string, to tell a real U+FFFD from a replaced surrogate and to name the member.</remarks>
internal static class UnpairedSurrogates
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> Checking = new();

    /// <summary>Throws <see cref="NotSupportedException"/> when writing <paramref name="value"/> replaced a lone surrogate.</summary>
    public static void EnsureNone(string json, object? value, Type type, JsonSerializerOptions options)
    {
        if (json.Contains('\uFFFD') || json.Contains("\\uFFFD", StringComparison.OrdinalIgnoreCase))
        {
            JsonSerializer.Serialize(value, type, Checking.GetValue(options, static o =>
            {
                var checking = new JsonSerializerOptions(o);
                checking.Converters.Insert(0, new CheckingStringConverter());
                checking.MakeReadOnly();
                return checking;
            }));
        }
    }

    private static void Check(string value)
    {
        var span = value.AsSpan();
        for (var i = span.IndexOfAnyInRange('\uD800', '\uDFFF'); i >= 0 && i < span.Length; i++)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(span[i]))
            {
                throw new NotSupportedException(
                    $"A string with a lone UTF-16 surrogate (U+{(int)span[i]:X4} at index {i}) cannot be stored as JSON: it " +
                    "would be stored as U+FFFD. Store such data as a byte[] instead.");
            }
        }
    }

    private sealed class CheckingStringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new InvalidOperationException("Only used to write.");

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            Check(value);
            writer.WriteStringValue(value);
        }

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            Check(value);
            writer.WritePropertyName(value);
        }
    }
}
