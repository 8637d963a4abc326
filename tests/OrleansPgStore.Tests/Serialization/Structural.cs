using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Reflection;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// Structural comparison for the type corpus: exact runtime types, floating-point bits (-0.0, NaN), decimal scale and
/// sign, DateTime kind, DateTimeOffset offset, collection order and comparers, and every instance field of anything else
/// (private ones included).
/// </summary>
public static class Structural
{
    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>The first difference between <paramref name="expected"/> and <paramref name="actual"/>, or null.</summary>
    public static string? Diff(object? expected, object? actual, string path = "$", int depth = 0)
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null ? null : $"{path}: {Show(expected)} became {Show(actual)}";
        }

        var type = expected.GetType();
        if (type != actual.GetType())
        {
            return $"{path}: a {type} became a {actual.GetType()}";
        }

        if (depth > 32)
        {
            return $"{path}: nested too deep to compare";
        }

        bool same;
        switch (expected)
        {
            case double d:
                same = BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits((double)actual);
                break;
            case float f:
                same = BitConverter.SingleToInt32Bits(f) == BitConverter.SingleToInt32Bits((float)actual);
                break;
            case Half h:
                same = BitConverter.HalfToInt16Bits(h) == BitConverter.HalfToInt16Bits((Half)actual);
                break;
            case decimal m:
                same = decimal.GetBits(m).SequenceEqual(decimal.GetBits((decimal)actual));
                break;
            case string s:
                same = string.Equals(s, (string)actual, StringComparison.Ordinal);
                break;
            case DateTime t:
                same = t.Ticks == ((DateTime)actual).Ticks && t.Kind == ((DateTime)actual).Kind;
                break;
            case DateTimeOffset o:
                same = o.Ticks == ((DateTimeOffset)actual).Ticks && o.Offset == ((DateTimeOffset)actual).Offset;
                break;
            case Uri u:
                same = u.OriginalString == ((Uri)actual).OriginalString && u.IsAbsoluteUri == ((Uri)actual).IsAbsoluteUri;
                break;
            case IEnumerable sequence:
                return Sequences(sequence, (IEnumerable)actual, path, depth);
            default:
                if (type.IsPrimitive || type.IsEnum)
                {
                    same = expected.Equals(actual);
                    break;
                }

                return Members(expected, actual, type, path, depth);
        }

        return same ? null : $"{path}: {Show(expected)} became {Show(actual)}";
    }

    private static string? Sequences(IEnumerable expected, IEnumerable actual, string path, int depth)
    {
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Instance | BindingFlags.Public))
        {
            if (property.Name is "Comparer" or "KeyComparer" or "ValueComparer" && property.GetIndexParameters().Length == 0
                && !SameComparer(property.GetValue(expected), property.GetValue(actual)))
            {
                return $"{path}: its {property.Name} {property.GetValue(expected)} became {property.GetValue(actual)}";
            }
        }

        if (expected is Array array && (array.Rank != ((Array)actual).Rank
            || Enumerable.Range(0, array.Rank).Any(d => array.GetLength(d) != ((Array)actual).GetLength(d))))
        {
            return $"{path}: the array's shape changed";
        }

        var left = expected.Cast<object?>().ToList();
        var right = actual.Cast<object?>().ToList();
        if (left.Count != right.Count)
        {
            return $"{path}: {left.Count} items became {right.Count}";
        }

        // Hash-ordered collections enumerate by bucket, which depends on their capacity, not on their content.
        if (IsHashOrdered(expected.GetType()))
        {
            return left.All(l => right.Any(r => Diff(l, r, path, depth + 1) is null)) ? null : $"{path}: the items changed";
        }

        for (var i = 0; i < left.Count; i++)
        {
            if (Diff(left[i], right[i], $"{path}[{i}]", depth + 1) is { } difference)
            {
                return difference;
            }
        }

        return null;
    }

    /// <summary>StringComparer.Ordinal is what the default string comparer does.</summary>
    private static bool SameComparer(object? expected, object? actual)
        => Equals(expected, actual)
            || (expected is not null && actual is not null
                && new[] { expected, actual }.All(c => ReferenceEquals(c, StringComparer.Ordinal) || ReferenceEquals(c, EqualityComparer<string>.Default)
                    || ReferenceEquals(c, Comparer<string>.Default)));

    /// <summary>
    /// Collections whose enumeration order .NET leaves unspecified. A Dictionary's is its insertion order as long as
    /// nothing was removed, but jsonb stores object keys sorted (by length, then bytes), so it is not kept.
    /// </summary>
    private static bool IsHashOrdered(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(Dictionary<,>) || definition == typeof(ConcurrentDictionary<,>)
                || definition == typeof(ImmutableDictionary<,>) || definition == typeof(ImmutableHashSet<>));

    private static string? Members(object expected, object actual, Type type, string path, int depth)
    {
        for (var level = type; level is not null && level != typeof(object); level = level.BaseType)
        {
            foreach (var field in level.GetFields(Fields))
            {
                if (field.IsStatic)
                {
                    continue;
                }

                if (Diff(field.GetValue(expected), field.GetValue(actual), $"{path}.{field.Name}", depth + 1) is { } difference)
                {
                    return difference;
                }
            }
        }

        return null;
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        double d => $"{d:R} (bits {BitConverter.DoubleToInt64Bits(d):X})",
        string s => $"\"{s}\"",
        _ => $"{value} ({value.GetType().Name})",
    };
}
