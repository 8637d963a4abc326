using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansPgStore.Serialization.Converters;

/// <summary>
/// Floating-point values PostgreSQL's <c>jsonb</c> cannot hold as numbers: its numbers are <c>numeric</c>, which has no
/// negative zero, NaN or infinity (<c>-0</c> comes back as <c>0</c>). Those few values are stored as the JSON strings
/// <c>"-0"</c>, <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c>; every other value stays a JSON number.
/// </summary>
/// <remarks>Reads accept a number, one of those strings, and (only when <see cref="JsonNumberHandling.AllowReadingFromString"/>
/// is set, as in non-strict reads) a number in a string.</remarks>
internal abstract class ExactFloatingPointConverter<T> : JsonConverter<T>
    where T : struct, IFloatingPointIeee754<T>
{
    public override bool HandleNull => false;

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.TokenType switch
        {
            JsonTokenType.Number => ReadNumber(ref reader),
            JsonTokenType.String => Parse(reader.GetString()!, options),
            _ => throw new JsonException($"Expected a number or one of \"-0\", \"NaN\", \"Infinity\", \"-Infinity\" for {typeof(T).Name}, not {reader.TokenType}."),
        };

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        if (Special(value) is { } name)
        {
            writer.WriteStringValue(name);
        }
        else
        {
            WriteNumber(writer, value);
        }
    }

    public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => Parse(reader.GetString()!, options, anyNumber: true);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        => writer.WritePropertyName(Special(value) ?? value.ToString("R", CultureInfo.InvariantCulture));

    protected abstract T ReadNumber(ref Utf8JsonReader reader);

    protected abstract void WriteNumber(Utf8JsonWriter writer, T value);

    private static string? Special(T value)
        => T.IsFinite(value)
            ? T.IsZero(value) && T.IsNegative(value) ? "-0" : null
            : T.IsNaN(value) ? "NaN" : T.IsNegative(value) ? "-Infinity" : "Infinity";

    private static T Parse(string text, JsonSerializerOptions options, bool anyNumber = false)
    {
        switch (text)
        {
            case "-0":
                return T.NegativeZero;
            case "NaN":
                return T.NaN;
            case "Infinity":
                return T.PositiveInfinity;
            case "-Infinity":
                return T.NegativeInfinity;
        }

        if ((anyNumber || (options.NumberHandling & JsonNumberHandling.AllowReadingFromString) != 0)
            && T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
        {
            return value;
        }

        throw new JsonException($"A string that is not a {typeof(T).Name} was stored (its text is a payload, never echoed): expected a number or one of \"-0\", \"NaN\", \"Infinity\", \"-Infinity\".");
    }
}

internal sealed class ExactDoubleConverter : ExactFloatingPointConverter<double>
{
    protected override double ReadNumber(ref Utf8JsonReader reader) => reader.GetDouble();

    protected override void WriteNumber(Utf8JsonWriter writer, double value) => writer.WriteNumberValue(value);
}

internal sealed class ExactSingleConverter : ExactFloatingPointConverter<float>
{
    protected override float ReadNumber(ref Utf8JsonReader reader) => reader.GetSingle();

    protected override void WriteNumber(Utf8JsonWriter writer, float value) => writer.WriteNumberValue(value);
}

internal sealed class ExactHalfConverter : ExactFloatingPointConverter<Half>
{
    // Half has no reader or writer method of its own; every Half is exactly a double, and "R" round-trips it.
    protected override Half ReadNumber(ref Utf8JsonReader reader)
    {
        var value = (Half)reader.GetDouble();
        return Half.IsFinite(value) ? value : throw new JsonException("The number is out of range for Half.");
    }

    protected override void WriteNumber(Utf8JsonWriter writer, Half value) => writer.WriteNumberValue((double)value);
}

/// <summary>
/// <see cref="decimal"/> keeps its scale through <c>jsonb</c> (<c>1.10</c> stays <c>1.10</c>); only its negative zero,
/// which <c>numeric</c> cannot hold, is stored as a string (<c>"-0.00"</c>).
/// </summary>
internal sealed class ExactDecimalConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetDecimal();
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            var negativeZero = text.StartsWith("-0", StringComparison.Ordinal);
            if ((negativeZero || (options.NumberHandling & JsonNumberHandling.AllowReadingFromString) != 0)
                && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value)
                && (!negativeZero || value == 0))
            {
                return value;
            }

            throw new JsonException("A string that is not a decimal number was stored (its text is a payload, never echoed).");
        }

        throw new JsonException($"Expected a number for Decimal, not {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
    {
        if (value == 0 && decimal.IsNegative(value))
        {
            writer.WriteStringValue("-" + value.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }

    public override decimal ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => decimal.Parse(reader.GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
        => writer.WritePropertyName(value == 0 && decimal.IsNegative(value)
            ? "-" + value.ToString(CultureInfo.InvariantCulture)
            : value.ToString(CultureInfo.InvariantCulture));
}
