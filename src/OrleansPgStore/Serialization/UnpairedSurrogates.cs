using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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
                checking.Converters.Insert(0, new CheckingCharConverter());
                checking.TypeInfoResolver = o.TypeInfoResolver!.WithAddedModifier(NameTheMember);
                checking.MakeReadOnly();
                return checking;
            }));
        }
    }

    /// <summary>A string or char member is checked by its owner, so the refusal names type and member.</summary>
    private static void NameTheMember(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in info.Properties)
        {
            if (property.Get is { } getDictionary && OrleansJsonContract.DictionaryKeyType(property.PropertyType) is { } key
                && (key == typeof(string) || key == typeof(char)))
            {
                // A dictionary's keys are written as property names, where System.Text.Json cannot say whose they are.
                var (dictionaryOwner, dictionaryName) = (info.Type, property.Name);
                property.Get = instance =>
                {
                    var value = getDictionary(instance);
                    try
                    {
                        foreach (var k in (value as System.Collections.IDictionary)?.Keys ?? Array.Empty<object>())
                        {
                            Check(k is char c ? [c] : ((string)k).AsSpan());
                        }
                    }
                    catch (NotSupportedException e)
                    {
                        throw new NotSupportedException(
                            $"{OrleansJsonContract.Describe(dictionaryOwner)} cannot be stored faithfully: a key of its member '{dictionaryName}': {e.Message}", e);
                    }

                    return value;
                };
                continue;
            }

            if (property.Get is not { } get || (property.PropertyType != typeof(string) && property.PropertyType != typeof(char)))
            {
                continue;
            }

            var (owner, name) = (info.Type, property.Name);
            property.Get = instance =>
            {
                var value = get(instance);
                try
                {
                    Check(value is char c ? [c] : ((string?)value).AsSpan());
                }
                catch (NotSupportedException e)
                {
                    throw new NotSupportedException(
                        $"{OrleansJsonContract.Describe(owner)} cannot be stored faithfully: its member '{name}': {e.Message}", e);
                }

                return value;
            };
        }
    }

    private static void Check(ReadOnlySpan<char> span)
    {
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

    private sealed class CheckingCharConverter : JsonConverter<char>
    {
        public override char Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new InvalidOperationException("Only used to write.");

        public override void Write(Utf8JsonWriter writer, char value, JsonSerializerOptions options)
        {
            Check([value]);
            writer.WriteStringValue([value]);
        }

        public override void WriteAsPropertyName(Utf8JsonWriter writer, char value, JsonSerializerOptions options)
        {
            Check([value]);
            writer.WritePropertyName([value]);
        }
    }
}
