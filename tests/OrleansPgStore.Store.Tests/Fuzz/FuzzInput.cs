using System.Globalization;
using System.Text;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>How a call with a generated input must end.</summary>
public enum Expect
{
    /// <summary>Succeeds, and what it stored reads back equal.</summary>
    Success,

    /// <summary>Fails before any I/O with an <see cref="ArgumentException"/>.</summary>
    Rejected,

    /// <summary>Valid JSON that jsonb cannot hold (a number beyond numeric's range): rejected by the engine or the server.</summary>
    RejectedSomewhere,
}

/// <summary>Seeded generators of hostile input. Each value comes with what the engine must do with it.</summary>
public sealed class FuzzInput(int seed)
{
    private static readonly string[] Unicode = ["é", "ß", "中文", "日本", "😀", "👩‍👩‍👧", "e\u0301", "\u200d", "\u202e", "ﷺ", "𝔘", "Ω", "\uFEFF", "\uFFFD"];
    private static readonly string[] Control = ["\u0001", "\u001f", "\u007f", "\t", "\n", "\r", "\u0085", "\u2028"];
    private static readonly string[] Sqlish = ["'; DROP TABLE events; --", "\" OR 1=1 --", "$$", "$1", "%_", "\\", ".*[a-z]+$", "(?i)x", "\\u0000", "NULL", "{}", "[]"];

    public Random Random { get; } = new(seed);

    /// <summary>A stream name, persistence id or similar key, and whether the engine must accept it.</summary>
    public (string? Value, Expect Expect) Key(string prefix = "k")
    {
        var r = Random;
        return r.Next(20) switch
        {
            0 => (null, Expect.Rejected),
            1 => ("", Expect.Rejected),
            2 => (prefix + "\0" + r.Next(), Expect.Rejected),
            3 => (prefix + "\ud800" + r.Next(), Expect.Rejected),
            4 => ("\udc00" + prefix, Expect.Rejected),
            5 => (prefix + "\udc00\ud800", Expect.Rejected),
            6 => (new string('x', 1024), Expect.Success),
            7 => (new string('x', 1025), Expect.Rejected),
            8 => (string.Concat(Enumerable.Repeat("中", 341)), Expect.Success), // 1,023 UTF-8 bytes
            9 => (string.Concat(Enumerable.Repeat("中", 342)), Expect.Rejected),
            10 => (string.Concat(Enumerable.Repeat("😀", 256)), Expect.Success), // 1,024 bytes
            11 => (string.Concat(Enumerable.Repeat("😀", 257)), Expect.Rejected),
            12 => (prefix + Pick(Control) + Pick(Control) + r.Next(), Expect.Success),
            13 => (Pick(Sqlish) + r.Next(), Expect.Success),
            14 => ("   ", Expect.Success),
            15 => ("$" + prefix + r.Next(), Expect.Success),
            _ => (prefix + "-" + Words(1 + r.Next(3)), Expect.Success),
        };
    }

    /// <summary>A JSON payload and whether jsonb can hold it.</summary>
    public (string Json, Expect Expect) Json()
    {
        var r = Random;
        return r.Next(25) switch
        {
            0 => ("", Expect.Rejected),
            1 => ("not json", Expect.Rejected),
            2 => ("{\"a\": 1", Expect.Rejected),
            3 => ("[1, 2,]", Expect.Rejected),
            4 => ("{\"a\": 1} {\"b\": 2}", Expect.Rejected),
            5 => ("\"a\0b\"", Expect.Rejected),
            6 => ("{\"t\": \"a\\u0000b\"}", Expect.Rejected),
            7 => ("\"\\ud800\"", Expect.Rejected),
            8 => ("\"x\ud800\"", Expect.Rejected),
            9 => ("\"a\u0001b\"", Expect.Rejected),
            10 => (Pick(["NaN", "Infinity", "01", "1.", ".5", "+1", "'s'", "{a: 1}", "tru"]), Expect.Rejected),
            11 => ("[" + Pick(["1e999999", "1e-20000", "1.5e-16383", "0e-999999"]) + "]", Expect.RejectedSomewhere),
            _ => (Value(0, 1 + r.Next(5)), Expect.Success),
        };
    }

    /// <summary>A valid JSON value of at most <paramref name="maxDepth"/> levels, with odd whitespace, escapes and numbers.</summary>
    public string Value(int depth, int maxDepth)
    {
        var r = Random;
        var kind = depth >= maxDepth ? r.Next(4) : r.Next(7);
        return kind switch
        {
            0 => String(),
            1 => Number(),
            2 => Pick(["true", "false", "null"]),
            3 => String(),
            4 => "[" + Ws() + string.Join("," + Ws(), Enumerable.Range(0, r.Next(5)).Select(_ => Value(depth + 1, maxDepth))) + Ws() + "]",
            _ => "{" + Ws() + string.Join("," + Ws(), Enumerable.Range(0, r.Next(5)).Select(_ =>
                     (r.Next(8) == 0 ? "\"dup\"" : String()) + Ws() + ":" + Ws() + Value(depth + 1, maxDepth))) + Ws() + "}",
        };
    }

    public string String()
    {
        var r = Random;
        var text = new StringBuilder("\"");
        for (var i = r.Next(8); i > 0; i--)
        {
            text.Append(r.Next(9) switch
            {
                0 => Pick(["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]),
                1 => $"\\u{r.Next(1, 0xD800):x4}",
                2 => "\\ud83d\\ude00",
                3 => Pick(Unicode),
                4 => Pick(Sqlish).Replace("\\", "\\\\").Replace("\"", "\\\""),
                _ => Words(1),
            });
        }

        return text.Append('"').ToString();
    }

    public string Number() => Random.Next(8) switch
    {
        0 => Random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
        1 => "-0",
        2 => "1.500",
        3 => Pick(["1e5", "1E+2", "-2.5e-3", "0e10", "0.000e-5", "1.0e2", "12e-1"]),
        4 => "123456789012345678901234567890.000000000000000000001",
        5 => "1e131071",
        6 => (Random.NextDouble() * 1e6).ToString("R", CultureInfo.InvariantCulture),
        _ => long.MinValue.ToString(CultureInfo.InvariantCulture),
    };

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    private string Ws() => Pick(["", " ", "\n", "\t", "\r\n  "]);

    private string Words(int n) => string.Join(" ", Enumerable.Range(0, n).Select(_ => Pick(["alpha", "beta", "gamma", Pick(Unicode)])));

    /// <summary>Objects and arrays nested <paramref name="depth"/> levels deep.</summary>
    public static string Deep(int depth)
    {
        var text = new StringBuilder(depth * 8);
        for (var i = 0; i < depth; i++)
        {
            text.Append(i % 2 == 0 ? "{\"a\":" : "[");
        }

        text.Append("\"bottom\"");
        for (var i = depth - 1; i >= 0; i--)
        {
            text.Append(i % 2 == 0 ? "}" : "]");
        }

        return text.ToString();
    }

    /// <summary>A JSON object of at least <paramref name="chars"/> characters: many small members with odd strings.</summary>
    public string Large(int chars)
    {
        var text = new StringBuilder(chars + 1024).Append("{\"items\":[");
        for (var i = 0; text.Length < chars; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"n\":").Append(i).Append(",\"s\":").Append(String()).Append('}');
        }

        return text.Append("]}").ToString();
    }
}

/// <summary>The engine's rules for text it stores, as documented: checked independently of its code.</summary>
public static class Storable
{
    /// <summary>No NUL, well-formed UTF-16, at most 1,024 UTF-8 bytes.</summary>
    public static bool Text(string text) => !text.Contains('\0') && Encodable(text) && Encoding.UTF8.GetByteCount(text) <= 1024;

    /// <summary>Well-formed UTF-16 (no unpaired surrogate): it has a UTF-8 form to send.</summary>
    public static bool Encodable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A key (stream name, persistence id): a non-empty storable text.</summary>
    public static bool Key(string? key) => !string.IsNullOrEmpty(key) && Text(key);
}
