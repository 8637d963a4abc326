// Ported from dotnet/orleans, test/Orleans.Runtime.Internal.Tests/MembershipTests/MembershipTableTestsBase.cs at tag
// v10.2.2 (with the nullability fixes of main@e558829b). Every case is kept as Orleans wrote it; the changes: xunit v3
// IAsyncLifetime instead of blocking waits in the constructor, the providers come from the subclass (no connection-string
// fixture), and the test-only helpers Orleans keeps internal (SiloAddressUtils) are inlined.
// Orleans' base calls the pre-10.3 members (obsolete in 10.4, forwarding to the cancellable ones); kept as written.
#pragma warning disable CS0618
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Messaging;

namespace OrleansPgStore.Tests.Clustering;

public abstract class MembershipTableTestsBase : IAsyncLifetime
{
    private static readonly string hostName = Dns.GetHostName();
    private static int generation;
    private readonly ILogger logger = NullLogger.Instance;
    private IMembershipTable membershipTable = null!;
    private IGatewayListProvider gatewayListProvider = null!;

    protected readonly string clusterId = "test-" + Guid.NewGuid();

    protected IMembershipTable MembershipTable => membershipTable;

    public async ValueTask InitializeAsync()
    {
        membershipTable = await CreateMembershipTable();
        await membershipTable.InitializeMembershipTable(true).WaitAsync(TimeSpan.FromMinutes(1));

        gatewayListProvider = await CreateGatewayListProvider();
        await gatewayListProvider.InitializeGatewayListProvider().WaitAsync(TimeSpan.FromMinutes(1));
    }

    public async ValueTask DisposeAsync()
    {
        await membershipTable.DeleteMembershipTableEntries(clusterId);
        await DisposeProvidersAsync();
    }

    protected abstract Task<IGatewayListProvider> CreateGatewayListProvider();

    protected abstract Task<IMembershipTable> CreateMembershipTable();

    protected abstract ValueTask DisposeProvidersAsync();

    protected async Task MembershipTable_GetGateways()
    {
        var membershipEntries = Enumerable.Range(0, 10).Select(i => CreateMembershipEntryForTest()).ToArray();

        membershipEntries[3].Status = SiloStatus.Active;
        membershipEntries[3].ProxyPort = 0;
        membershipEntries[5].Status = SiloStatus.Active;
        membershipEntries[9].Status = SiloStatus.Active;

        var data = await membershipTable.ReadAll();
        Assert.NotNull(data);
        Assert.Empty(data.Members);

        var version = data.Version;
        foreach (var membershipEntry in membershipEntries)
        {
            Assert.True(await membershipTable.InsertRow(membershipEntry, version.Next()));
            version = (await membershipTable.ReadRow(membershipEntry.SiloAddress)).Version;
        }

        var gateways = await gatewayListProvider.GetGateways();

        var entries = new List<string>(gateways.Select(g => g.ToString()));

        // only members with a non-zero Gateway port
        Assert.DoesNotContain(membershipEntries[3].SiloAddress.ToGatewayUri().ToString(), entries);

        // only Active members
        Assert.Contains(membershipEntries[5].SiloAddress.ToGatewayUri().ToString(), entries);
        Assert.Contains(membershipEntries[9].SiloAddress.ToGatewayUri().ToString(), entries);
        Assert.Equal(2, entries.Count);
    }

    protected async Task MembershipTable_ReadAll_EmptyTable()
    {
        var data = await membershipTable.ReadAll();
        Assert.NotNull(data);

        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Empty(data.Members);
        Assert.NotNull(data.Version.VersionEtag);
        Assert.Equal(0, data.Version.Version);
    }

    protected async Task MembershipTable_InsertRow(bool extendedProtocol = true)
    {
        var membershipEntry = CreateMembershipEntryForTest();

        var data = await membershipTable.ReadAll();
        Assert.NotNull(data);
        Assert.Empty(data.Members);

        TableVersion nextTableVersion = data.Version.Next();

        bool ok = await membershipTable.InsertRow(membershipEntry, nextTableVersion);
        Assert.True(ok, "InsertRow failed");

        data = await membershipTable.ReadAll();

        if (extendedProtocol)
            Assert.Equal(1, data.Version.Version);

        Assert.Single(data.Members);
    }

    protected async Task MembershipTable_ReadRow_Insert_Read(bool extendedProtocol = true)
    {
        MembershipTableData data = await membershipTable.ReadAll();

        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Empty(data.Members);

        TableVersion newTableVersion = data.Version.Next();

        MembershipEntry newEntry = CreateMembershipEntryForTest();
        bool ok = await membershipTable.InsertRow(newEntry, newTableVersion);

        Assert.True(ok, "InsertRow failed");

        ok = await membershipTable.InsertRow(newEntry, newTableVersion);
        Assert.False(ok, "InsertRow should have failed - same entry, old table version");

        if (extendedProtocol)
        {
            ok = await membershipTable.InsertRow(CreateMembershipEntryForTest(), newTableVersion);
            Assert.False(ok, "InsertRow should have failed - new entry, old table version");
        }

        data = await membershipTable.ReadAll();

        if (extendedProtocol)
            Assert.Equal(1, data.Version.Version);

        TableVersion nextTableVersion = data.Version.Next();

        ok = await membershipTable.InsertRow(newEntry, nextTableVersion);
        Assert.False(ok, "InsertRow should have failed - duplicate entry");

        data = await membershipTable.ReadAll();

        Assert.Single(data.Members);

        data = await membershipTable.ReadRow(newEntry.SiloAddress);
        if (extendedProtocol)
            Assert.Equal(newTableVersion.Version, data.Version.Version);

        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Single(data.Members);
        Assert.NotNull(data.Version.VersionEtag);
        if (extendedProtocol)
        {
            Assert.NotEqual(newTableVersion.VersionEtag, data.Version.VersionEtag);
            Assert.Equal(newTableVersion.Version, data.Version.Version);
        }
        var membershipEntry = data.Members[0].Item1;
        string eTag = data.Members[0].Item2;
        logger.LogInformation("Membership.ReadRow returned MembershipEntry ETag={ETag} Entry={Entry}", eTag, membershipEntry);

        Assert.NotNull(eTag);
        Assert.NotNull(membershipEntry);
    }

    protected async Task MembershipTable_ReadAll_Insert_ReadAll(bool extendedProtocol = true)
    {
        MembershipTableData data = await membershipTable.ReadAll();
        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Empty(data.Members);

        TableVersion newTableVersion = data.Version.Next();

        MembershipEntry newEntry = CreateMembershipEntryForTest();
        bool ok = await membershipTable.InsertRow(newEntry, newTableVersion);

        Assert.True(ok, "InsertRow failed");

        data = await membershipTable.ReadAll();
        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Single(data.Members);
        Assert.NotNull(data.Version.VersionEtag);

        if (extendedProtocol)
        {
            Assert.NotEqual(newTableVersion.VersionEtag, data.Version.VersionEtag);
            Assert.Equal(newTableVersion.Version, data.Version.Version);
        }

        var membershipEntry = data.Members[0].Item1;
        string eTag = data.Members[0].Item2;
        logger.LogInformation("Membership.ReadAll returned MembershipEntry ETag={ETag} Entry={Entry}", eTag, membershipEntry);

        Assert.NotNull(eTag);
        Assert.NotNull(membershipEntry);
    }

    protected async Task MembershipTable_UpdateRow(bool extendedProtocol = true)
    {
        var tableData = await membershipTable.ReadAll();
        Assert.NotNull(tableData.Version);

        Assert.Equal(0, tableData.Version.Version);
        Assert.Empty(tableData.Members);

        for (int i = 1; i < 10; i++)
        {
            var siloEntry = CreateMembershipEntryForTest();

            siloEntry.SuspectTimes =
                new List<Tuple<SiloAddress, DateTime>>
                {
                    new Tuple<SiloAddress, DateTime>(CreateSiloAddressForTest(), GetUtcNowWithSecondsResolution().AddSeconds(1)),
                    new Tuple<SiloAddress, DateTime>(CreateSiloAddressForTest(), GetUtcNowWithSecondsResolution().AddSeconds(2))
                };

            TableVersion tableVersion = tableData.Version.Next();

            logger.LogInformation("Calling InsertRow with Entry = {Entry} TableVersion = {TableVersion}", siloEntry, tableVersion);
            bool ok = await membershipTable.InsertRow(siloEntry, tableVersion);

            Assert.True(ok, "InsertRow failed");

            tableData = await membershipTable.ReadAll();

            var etagBefore = tableData.TryGet(siloEntry.SiloAddress)?.Item2;

            Assert.NotNull(etagBefore);

            if (extendedProtocol)
            {
                logger.LogInformation(
                    "Calling UpdateRow with Entry = {Entry} correct eTag = {ETag} old version={TableVersion}",
                    siloEntry,
                    etagBefore,
                    tableVersion?.ToString() ?? "null");
                ok = await membershipTable.UpdateRow(siloEntry, etagBefore, tableVersion!);
                Assert.False(ok, $"row update should have failed - Table Data = {tableData}");
                tableData = await membershipTable.ReadAll();
            }

            tableVersion = tableData.Version.Next();

            logger.LogInformation(
                "Calling UpdateRow with Entry = {Entry} correct eTag = {ETag} correct version={TableVersion}",
                siloEntry,
                etagBefore,
                tableVersion?.ToString() ?? "null");

            ok = await membershipTable.UpdateRow(siloEntry, etagBefore, tableVersion!);

            Assert.True(ok, $"UpdateRow failed - Table Data = {tableData}");

            logger.LogInformation(
                "Calling UpdateRow with Entry = {Entry} old eTag = {ETag} old version={TableVersion}",
                siloEntry,
                etagBefore,
                tableVersion?.ToString() ?? "null");
            ok = await membershipTable.UpdateRow(siloEntry, etagBefore, tableVersion!);
            Assert.False(ok, $"row update should have failed - Table Data = {tableData}");

            tableData = await membershipTable.ReadAll();

            var tuple = tableData.TryGet(siloEntry.SiloAddress);

            Assert.NotNull(tuple);
            Assert.Equal(tuple.Item1.ToFullString(), siloEntry.ToFullString());

            var etagAfter = tuple.Item2;

            if (extendedProtocol)
            {
                logger.LogInformation(
                    "Calling UpdateRow with Entry = {Entry} correct eTag = {ETag} old version={TableVersion}",
                    siloEntry,
                    etagAfter,
                    tableVersion?.ToString() ?? "null");

                ok = await membershipTable.UpdateRow(siloEntry, etagAfter, tableVersion!);

                Assert.False(ok, $"row update should have failed - Table Data = {tableData}");
            }

            tableData = await membershipTable.ReadAll();

            etagBefore = etagAfter;

            etagAfter = tableData.TryGet(siloEntry.SiloAddress)?.Item2;

            Assert.Equal(etagBefore, etagAfter);
            Assert.NotNull(tableData.Version);
            if (extendedProtocol)
                Assert.Equal(tableVersion!.Version, tableData.Version.Version);

            Assert.Equal(i, tableData.Members.Count);
        }
    }

    protected async Task MembershipTable_UpdateRowInParallel(bool extendedProtocol = true)
    {
        var tableData = await membershipTable.ReadAll();

        var data = CreateMembershipEntryForTest();

        TableVersion newTableVer = tableData.Version.Next();

        var insertions = Task.WhenAll(Enumerable.Range(1, 20).Select(async i => { try { return await membershipTable.InsertRow(data, newTableVer); } catch { return false; } }));

        Assert.True((await insertions).Single(x => x), "InsertRow failed");

        await Task.WhenAll(Enumerable.Range(1, 19).Select(async i =>
        {
            var done = false;
            do
            {
                var updatedTableData = await membershipTable.ReadAll();
                var updatedRow = updatedTableData.TryGet(data.SiloAddress);

                await Task.Delay(10);
                if (updatedRow is null) continue;

                TableVersion tableVersion = updatedTableData.Version.Next();
                try
                {
                    done = await membershipTable.UpdateRow(updatedRow.Item1, updatedRow.Item2, tableVersion);
                }
                catch
                {
                    done = false;
                }
            } while (!done);
        })).WaitAsync(TimeSpan.FromSeconds(30));


        tableData = await membershipTable.ReadAll();
        Assert.NotNull(tableData.Version);

        if (extendedProtocol)
            Assert.Equal(20, tableData.Version.Version);

        Assert.Single(tableData.Members);
    }

    protected async Task MembershipTable_UpdateIAmAlive(bool extendedProtocol = true)
    {
        MembershipTableData tableData = await membershipTable.ReadAll();

        TableVersion newTableVersion = tableData.Version.Next();
        MembershipEntry newEntry = CreateMembershipEntryForTest();
        bool ok = await membershipTable.InsertRow(newEntry, newTableVersion);
        Assert.True(ok);

        var amAliveTime = DateTime.UtcNow.Add(TimeSpan.FromSeconds(5));

        // This mimics the arguments MembershipOracle.OnIAmAliveUpdateInTableTimer passes in
        var entry = new MembershipEntry
        {
            SiloAddress = newEntry.SiloAddress,
            IAmAliveTime = amAliveTime
        };

        await membershipTable.UpdateIAmAlive(entry);

        tableData = await membershipTable.ReadAll();
        var member = tableData.Members.First(e => e.Item1.SiloAddress.Equals(newEntry.SiloAddress));

        // compare that the value is close to what we passed in, but not exactly, as the underlying store can set its own precision settings
        // (ie: in SQL Server this is defined as datetime2(3), so we don't expect precision to account for less than 0.001s values)
        Assert.True((amAliveTime - member.Item1.IAmAliveTime).Duration() < TimeSpan.FromSeconds(2), (amAliveTime - member.Item1.IAmAliveTime).Duration().ToString());
        Assert.Equal(newTableVersion.Version, tableData.Version.Version);
    }

    protected async Task MembershipTable_CleanupDefunctSiloEntries(bool extendedProtocol = true)
    {
        MembershipTableData data = await membershipTable.ReadAll();
        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Empty(data.Members);

        TableVersion newTableVersion = data.Version.Next();

        var oldEntryDead = CreateMembershipEntryForTest();
        oldEntryDead.IAmAliveTime = oldEntryDead.IAmAliveTime.AddDays(-10);
        oldEntryDead.StartTime = oldEntryDead.StartTime.AddDays(-10);
        oldEntryDead.Status = SiloStatus.Dead;
        bool ok = await membershipTable.InsertRow(oldEntryDead, newTableVersion);
        var table = await membershipTable.ReadAll();

        Assert.True(ok, "InsertRow Dead failed");

        newTableVersion = table.Version.Next();
        var oldEntryJoining = CreateMembershipEntryForTest();
        oldEntryJoining.IAmAliveTime = oldEntryJoining.IAmAliveTime.AddDays(-10);
        oldEntryJoining.StartTime = oldEntryJoining.StartTime.AddDays(-10);
        oldEntryJoining.Status = SiloStatus.Joining;
        ok = await membershipTable.InsertRow(oldEntryJoining, newTableVersion);
        table = await membershipTable.ReadAll();

        Assert.True(ok, "InsertRow Joining failed");

        newTableVersion = table.Version.Next();
        var newEntry = CreateMembershipEntryForTest();
        ok = await membershipTable.InsertRow(newEntry, newTableVersion);

        Assert.True(ok, "InsertRow failed");

        data = await membershipTable.ReadAll();
        newTableVersion = data.Version.Next();
        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Equal(3, data.Members.Count);

        // Every status other than Active should get cleared out if old
        foreach (var siloStatus in Enum.GetValues<SiloStatus>())
        {
            var oldEntry = CreateMembershipEntryForTest();
            oldEntry.IAmAliveTime = oldEntry.IAmAliveTime.AddDays(-10);
            oldEntry.StartTime = oldEntry.StartTime.AddDays(-10);
            oldEntry.Status = siloStatus;
            ok = await membershipTable.InsertRow(oldEntry, newTableVersion);
            table = await membershipTable.ReadAll();

            Assert.True(ok, "InsertRow failed");

            newTableVersion = table.Version.Next();
        }

        await membershipTable.CleanupDefunctSiloEntries(oldEntryDead.IAmAliveTime.AddDays(3));

        data = await membershipTable.ReadAll();
        logger.LogInformation("Membership.ReadAll returned TableVersion={TableVersion} Data={Data}", data.Version, data);

        Assert.Equal(2, data.Members.Count);
    }

    // Utility methods
    protected static MembershipEntry CreateMembershipEntryForTest()
    {
        SiloAddress siloAddress = CreateSiloAddressForTest();

        var membershipEntry = new MembershipEntry
        {
            SiloAddress = siloAddress,
            HostName = hostName,
            SiloName = "TestSiloName",
            Status = SiloStatus.Joining,
            ProxyPort = siloAddress.Endpoint.Port,
            StartTime = GetUtcNowWithSecondsResolution(),
            IAmAliveTime = GetUtcNowWithSecondsResolution()
        };

        return membershipEntry;
    }

    protected static DateTime GetUtcNowWithSecondsResolution()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, DateTimeKind.Utc);
    }

    // Orleans: SiloAddressUtils.NewLocalSiloAddress(generation) with the port set to 12345.
    protected static SiloAddress CreateSiloAddressForTest()
        => SiloAddress.New(IPAddress.Loopback, 12345, Interlocked.Increment(ref generation));
}
