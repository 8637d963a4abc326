using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>
/// A canonical text for a JSON value under jsonb's semantics, so a payload can be compared with what PostgreSQL gives
/// back: whitespace and key order do not matter, a repeated key keeps its last value, strings compare decoded, and
/// numbers compare by exact decimal value (jsonb prints 1.0e2 as 100). Iterative: payloads nest 10,000 deep.
/// </summary>
public static class JsonCanon
{
    public static string Of(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 20_000 });
        var stack = new Stack<Container>();
        string? root = null;
        string? key = null;

        void Add(string value)
        {
            if (stack.Count == 0)
            {
                root = value;
            }
            else if (stack.Peek() is { Members: { } members })
            {
                members[key!] = value; // the last of repeated keys wins
            }
            else
            {
                stack.Peek().Items!.Add(value);
            }
        }

        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    stack.Push(new Container(new SortedDictionary<string, string>(StringComparer.Ordinal), null, key));
                    break;
                case JsonTokenType.StartArray:
                    stack.Push(new Container(null, [], key));
                    break;
                case JsonTokenType.EndObject:
                {
                    var done = stack.Pop();
                    key = done.Key;
                    Add("{" + string.Join(",", done.Members!.Select(m => Quote(m.Key) + ":" + m.Value)) + "}");
                    break;
                }

                case JsonTokenType.EndArray:
                {
                    var done = stack.Pop();
                    key = done.Key;
                    Add("[" + string.Join(",", done.Items!) + "]");
                    break;
                }

                case JsonTokenType.PropertyName:
                    key = reader.GetString();
                    break;
                case JsonTokenType.String:
                    Add(Quote(reader.GetString()!));
                    break;
                case JsonTokenType.Number:
                    Add(Number(Encoding.UTF8.GetString(reader.ValueSpan)));
                    break;
                case JsonTokenType.True:
                    Add("true");
                    break;
                case JsonTokenType.False:
                    Add("false");
                    break;
                case JsonTokenType.Null:
                    Add("null");
                    break;
            }
        }

        return root ?? throw new ArgumentException("no JSON value", nameof(json));
    }

    /// <summary>A number as sign, significant digits and a power of ten: equal values, equal text.</summary>
    public static string Number(string literal)
    {
        var negative = literal.StartsWith('-');
        var body = negative ? literal[1..] : literal;
        var e = body.IndexOfAny(['e', 'E']);
        var exponent = e < 0 ? BigInteger.Zero : BigInteger.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? body : body[..e];
        var dot = mantissa.IndexOf('.');
        var digits = dot < 0 ? mantissa : mantissa[..dot] + mantissa[(dot + 1)..];
        exponent -= dot < 0 ? 0 : mantissa.Length - dot - 1;
        digits = digits.TrimStart('0');
        if (digits.Length == 0)
        {
            return "0";
        }

        var significant = digits.TrimEnd('0');
        exponent += digits.Length - significant.Length;
        return (negative ? "-" : "") + significant + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    private sealed record Container(SortedDictionary<string, string>? Members, List<string>? Items, string? Key);
}
