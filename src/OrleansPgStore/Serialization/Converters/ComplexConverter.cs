using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansPgStore.Serialization.Converters;

/// <summary>
/// <see cref="Complex"/> as <c>{"real": r, "imaginary": i}</c> (names by the naming policy; each part written like any
/// double, so -0.0 and NaN survive). System.Text.Json would store its computed properties and read back zero.
/// </summary>
internal sealed class ComplexConverter : JsonConverter<Complex>
{
    public override Complex Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Expected an object for Complex, not {reader.TokenType}.");
        }

        var (realName, imaginaryName) = Names(options);
        double? real = null, imaginary = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (string.Equals(name, realName, comparison) && real is null)
            {
                real = JsonSerializer.Deserialize<double>(ref reader, options);
            }
            else if (string.Equals(name, imaginaryName, comparison) && imaginary is null)
            {
                imaginary = JsonSerializer.Deserialize<double>(ref reader, options);
            }
            else
            {
                throw new JsonException($"Complex has one '{realName}' and one '{imaginaryName}'; '{name}' is unexpected here.");
            }
        }

        return real is { } r && imaginary is { } i
            ? new Complex(r, i)
            : throw new JsonException($"Complex needs both '{realName}' and '{imaginaryName}'.");
    }

    public override void Write(Utf8JsonWriter writer, Complex value, JsonSerializerOptions options)
    {
        var (realName, imaginaryName) = Names(options);
        writer.WriteStartObject();
        writer.WritePropertyName(realName);
        JsonSerializer.Serialize(writer, value.Real, options);
        writer.WritePropertyName(imaginaryName);
        JsonSerializer.Serialize(writer, value.Imaginary, options);
        writer.WriteEndObject();
    }

    private static (string Real, string Imaginary) Names(JsonSerializerOptions options)
        => (options.PropertyNamingPolicy?.ConvertName("Real") ?? "Real", options.PropertyNamingPolicy?.ConvertName("Imaginary") ?? "Imaginary");
}
