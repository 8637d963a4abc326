using System.Globalization;
using System.Net;
using Orleans;
using OrleansPgStore.Store.Clustering;

namespace OrleansPgStore.Clustering;

/// <summary>Maps Orleans' membership types onto the engine's rows and back, every field of the entry included.</summary>
internal static class MembershipEntryMapping
{
    public static MembershipRow ToRow(MembershipEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.SiloAddress is null)
        {
            throw new ArgumentException("MembershipEntry.SiloAddress is required.", nameof(entry));
        }

        return new MembershipRow(
            Address: entry.SiloAddress.Endpoint.Address.ToString(),
            Port: entry.SiloAddress.Endpoint.Port,
            Generation: entry.SiloAddress.Generation,
            SiloName: entry.SiloName,
            HostName: entry.HostName,
            Status: (int)entry.Status,
            ProxyPort: entry.ProxyPort,
            RoleName: entry.RoleName,
            UpdateZone: entry.UpdateZone,
            FaultZone: entry.FaultZone,
            SuspectTimes: entry.SuspectTimes?.Select(vote => new SuspectVote(vote.Item1.ToParsableString(), vote.Item2)).ToList(),
            StartTime: entry.StartTime,
            IAmAliveTime: entry.IAmAliveTime);
    }

    public static MembershipEntry ToEntry(MembershipRow row) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Parse(row.Address), row.Port, row.Generation),
        // Null only when the entry had none: Orleans declares the names non-null but does not enforce it.
        SiloName = row.SiloName!,
        HostName = row.HostName!,
        Status = (SiloStatus)row.Status,
        ProxyPort = row.ProxyPort,
        RoleName = row.RoleName,
        UpdateZone = row.UpdateZone,
        FaultZone = row.FaultZone,
        SuspectTimes = row.SuspectTimes?.Select(vote => Tuple.Create(SiloAddress.FromParsableString(vote.Silo), vote.At)).ToList(),
        StartTime = row.StartTime,
        IAmAliveTime = row.IAmAliveTime,
    };

    public static MembershipTableData ToTableData(MembershipSnapshot snapshot)
    {
        var version = ToTableVersion(snapshot);
        var members = snapshot.Members.Select(member => Tuple.Create(ToEntry(member.Row), Etag(member.Etag))).ToList();
        return new MembershipTableData(members, version);
    }

    public static string Etag(long etag) => etag.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses an ETag this provider handed out; anything else can match no row.</summary>
    public static bool TryParseEtag(string? etag, out long value)
        => long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static TableVersion ToTableVersion(MembershipSnapshot snapshot)
    {
        if (snapshot.Version is < int.MinValue or > int.MaxValue)
        {
            throw new InvalidOperationException(
                $"The stored membership version {snapshot.Version} does not fit Orleans' TableVersion.Version (a 32-bit int).");
        }

        return new TableVersion((int)snapshot.Version, Etag(snapshot.VersionEtag));
    }
}
