using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// The suspect votes as stored: <c>[{"silo": "...", "at": "2026-12-06T13:00:00.1234567Z"}]</c>. The round-trip
/// date format keeps every tick, and the column stays readable and queryable in SQL.
/// </summary>
internal static class SuspectTimesJson
{
    public static string? Write(IReadOnlyList<SuspectVote>? votes)
    {
        if (votes is null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var vote in votes)
            {
                writer.WriteStartObject();
                writer.WriteString("silo", vote.Silo);
                writer.WriteString("at", MembershipStore.ToUtc(vote.At).ToString("O", CultureInfo.InvariantCulture));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IReadOnlyList<SuspectVote>? Read(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        var votes = new List<SuspectVote>(document.RootElement.GetArrayLength());
        foreach (var vote in document.RootElement.EnumerateArray())
        {
            // Written in UTC ("...Z"), so the round-trip kind is UTC.
            var at = DateTime.ParseExact(vote.GetProperty("at").GetString()!, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            votes.Add(new SuspectVote(vote.GetProperty("silo").GetString()!, at));
        }

        return votes;
    }
}
