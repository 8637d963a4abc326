using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansPgStore.Store.Connection;

/// <summary>
/// Validates and quotes the SQL identifiers (schema and table names) the stores are configured with.
/// </summary>
/// <remarks>
/// Identifiers are the only configuration that reaches SQL text; everything else travels as parameters.
/// A name must match <c>^[a-zA-Z_][a-zA-Z0-9_]*$</c> and fit PostgreSQL's 63-byte identifier limit, and it is
/// always double-quoted, so it keeps its case and can never end a statement early.
/// </remarks>
internal static partial class SqlIdentifier
{
    /// <summary>PostgreSQL's identifier length limit (NAMEDATALEN - 1).</summary>
    public const int MaxLength = 63;

    // \z, not $: in .NET, $ also matches before a final newline, which would let "events\n" through.
    [GeneratedRegex(@"\A[a-zA-Z_][a-zA-Z0-9_]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a valid identifier.</summary>
    /// <param name="name">The identifier to check.</param>
    /// <param name="setting">The setting the name came from, named in the error (e.g. <c>Schema</c>).</param>
    public static void Validate(string? name, string setting)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"{setting} must be a non-empty SQL identifier.", setting);
        }

        if (name.Length > MaxLength)
        {
            throw new ArgumentException(
                $"{setting} '{Truncate(name)}' is {name.Length} characters long; PostgreSQL identifiers are limited to {MaxLength}.",
                setting);
        }

        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException(
                $"{setting} '{Truncate(name)}' is not a valid SQL identifier: use letters, digits and '_', not starting with a digit.",
                setting);
        }
    }

    /// <summary>Validates <paramref name="name"/> and returns it double-quoted.</summary>
    public static string Quote(string name, string setting)
    {
        Validate(name, setting);
        return "\"" + name + "\"";
    }

    /// <summary>
    /// Derives the name of an object that belongs to a table (an index, a sequence) and keeps it within
    /// 63 bytes. PostgreSQL would silently truncate a longer name, and two long table names sharing a
    /// prefix would then collide, so long names are shortened with a hash of the full name instead.
    /// </summary>
    internal static string Derive(string table, string suffix)
    {
        var full = table + "_" + suffix;
        if (full.Length <= MaxLength)
        {
            return full;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..8];
        var keep = MaxLength - suffix.Length - hash.Length - 2;
        return table[..keep] + "_" + hash + "_" + suffix;
    }

    private static string Truncate(string name) => name.Length <= 80 ? name : name[..80] + "…";
}
