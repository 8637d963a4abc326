using System.Buffers;
using System.Text;
using System.Text.Json;

namespace OrleansPgStore.Store.Schema;

/// <summary>
/// Checks of what callers pass to any store (journal, durable state, leases, clustering, reminders) against what the
/// tables accept: keys and names in valid UTF-8 without NUL that fit an index entry, and well-formed JSON. Each failure
/// is an <see cref="ArgumentException"/> naming what was wrong and where (stream, event index and name), raised before
/// any I/O so nothing is ever partially written.
/// </summary>
internal static class InputChecks
{
    /// <summary>Longest stream or event name, in UTF-8 bytes (b-tree index entries are limited to ~2.7 kB).</summary>
    public const int MaxNameBytes = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Stream(string? stream, string parameter = "stream") => Key(stream, "Stream name", parameter);

    /// <summary>Checks a key (stream name, persistence id): non-empty, storable text, at most <see cref="MaxNameBytes"/>.</summary>
    public static void Key(string? key, string what, string parameter)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException($"{what} must be a non-empty string.", parameter);
        }

        if (!IsText(key))
        {
            Text(key, $"{what} '{Shorten(key)}'", parameter);
        }
    }

    /// <summary>True when <see cref="Text"/> would accept <paramref name="value"/> (it builds no message).</summary>
    internal static bool IsText(string value)
    {
        if (value.Contains('\0'))
        {
            return false;
        }

        try
        {
            return StrictUtf8.GetByteCount(value) <= MaxNameBytes;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>True when <see cref="Json"/> would accept <paramref name="json"/> (it builds no message).</summary>
    internal static bool IsJson(string? json)
    {
        if (json is null || json.Contains('\0'))
        {
            return false;
        }

        byte[]? rented = null;
        try
        {
            var length = StrictUtf8.GetByteCount(json);
            Span<byte> bytes = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
            StrictUtf8.GetBytes(json, bytes);
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 10_000 });
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName
                    && reader.ValueIsEscaped
                    && reader.GetString()!.Contains('\0'))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or EncoderFallbackException)
        {
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Checks that <paramref name="json"/> is one well-formed JSON value that <c>jsonb</c> can hold: PostgreSQL
    /// rejects the escape <c>\u0000</c> and unpaired surrogates, so those are reported here, with context.
    /// </summary>
    public static void Json(string? json, string what, string parameter)
    {
        if (json is null)
        {
            throw new ArgumentException($"{what} is null; use the JSON text \"null\" for an empty payload.", parameter);
        }

        if (json.Contains('\0'))
        {
            throw new ArgumentException($"{what} contains a NUL character, which PostgreSQL cannot store.", parameter);
        }

        try
        {
            var reader = new Utf8JsonReader(StrictUtf8.GetBytes(json), new JsonReaderOptions { MaxDepth = 10_000 });
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName
                    && reader.ValueIsEscaped
                    && reader.GetString()!.Contains('\0'))
                {
                    throw new ArgumentException($"{what} contains the escape \\u0000, which PostgreSQL's jsonb cannot store.", parameter);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or EncoderFallbackException)
        {
            throw new ArgumentException($"{what} is not valid JSON: {e.Message}", parameter, e);
        }
    }

    public static void OptionalText(string? value, string what)
    {
        if (value is not null)
        {
            Text(value, what, "metadata");
        }
    }

    /// <summary>Checks text that is stored or indexed (names, keys, lanes): storable, at most <see cref="MaxNameBytes"/>.</summary>
    internal static void Text(string value, string what, string parameter)
    {
        var bytes = Encodable(value, what, parameter);
        if (bytes > MaxNameBytes)
        {
            throw new ArgumentException($"{what} is {bytes} bytes long; the limit is {MaxNameBytes} UTF-8 bytes.", parameter);
        }
    }

    /// <summary>
    /// Checks text that is sent to PostgreSQL at all (filter values too): no NUL and no unpaired surrogate, which the
    /// server or the driver would refuse with a less helpful error. Returns its length in UTF-8 bytes.
    /// </summary>
    internal static int Encodable(string value, string what, string parameter)
    {
        if (value.Contains('\0'))
        {
            throw new ArgumentException($"{what} contains a NUL character, which PostgreSQL cannot store.", parameter);
        }

        try
        {
            return StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"{what} is not valid Unicode (an unpaired surrogate).", parameter, e);
        }
    }

    /// <summary>Keeps error messages readable when a name is huge or carries control characters.</summary>
    internal static string Shorten(string value)
    {
        var text = value.Length <= 100 ? value : value[..100] + "…";
        return text.Replace("\0", "\\0", StringComparison.Ordinal);
    }
}
