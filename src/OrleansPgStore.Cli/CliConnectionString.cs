using System.Data.Common;
using Npgsql;

namespace OrleansPgStore.Cli;

/// <summary>
/// Checks a connection string before anything connects, so a typo is reported in the tool's words (the keyword or
/// value that is wrong) instead of Npgsql's ("Format of the initialization string does not conform…").
/// </summary>
internal static class CliConnectionString
{
    /// <summary>Returns the parsed connection string.</summary>
    /// <exception cref="CliUsageException">It is malformed, has an unknown keyword or a value Npgsql refuses.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        var generic = new DbConnectionStringBuilder();
        try
        {
            generic.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            throw new CliUsageException(
                "The connection string is malformed: write keyword=value pairs separated by ';', e.g. " +
                "\"Host=localhost;Database=app;Username=app;Password=secret\" (quote values that contain ';').");
        }

        var npgsql = new NpgsqlConnectionStringBuilder();
        foreach (string keyword in generic.Keys)
        {
            var value = generic[keyword];
            var written = AsWritten(connectionString, keyword);
            try
            {
                npgsql[keyword] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or KeyNotFoundException)
            {
                throw new CliUsageException(IsKnown(keyword)
                    ? $"The connection string's {written} value '{value}' is not valid: {e.Message}"
                    : $"The connection string has an unknown keyword '{written}'. Npgsql's keywords include Host, Port, " +
                      "Database, Username, Password, SSL Mode, Timeout, Maximum Pool Size.");
            }
        }

        return npgsql;
    }

    /// <summary>The keyword as the user wrote it (the parser lower-cases keywords).</summary>
    private static string AsWritten(string connectionString, string keyword)
    {
        var at = connectionString.IndexOf(keyword, StringComparison.OrdinalIgnoreCase);
        return at < 0 ? keyword : connectionString.Substring(at, keyword.Length);
    }

    private static bool IsKnown(string keyword)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder()[keyword];
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }
}
