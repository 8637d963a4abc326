#pragma warning disable CS0618 // the pre-10.3 members forward to the cancellable ones; both are Orleans' contract
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace OrleansPgStore.Tests.Clustering;

/// <summary>What the membership table promises beyond Orleans' test base.</summary>
public sealed class PostgresMembershipTableGuaranteeTests(MembershipSchemaFixture fixture) : IClassFixture<MembershipSchemaFixture>, IAsyncDisposable
{
    private static int generation = 1_000_000;
    private readonly string _clusterId = "g-" + Guid.NewGuid().ToString("N");
    private ServiceProvider? _services;

    [Fact]
    public async Task An_update_with_the_current_table_version_but_a_stale_row_ETag_changes_nothing()
    {
        var table = await TableAsync();
        var entry = Entry();
        var empty = await table.ReadAll();
        Assert.True(await table.InsertRow(entry, empty.Version.Next()));
        var afterInsert = await table.ReadAll();
        var staleRowEtag = afterInsert.Members[0].Item2;
        // Another member's write moves the version; then this row is updated, which gives it a new ETag.
        Assert.True(await table.InsertRow(Entry(), afterInsert.Version.Next()));
        var current = await table.ReadAll();
        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRow(entry, current.TryGet(entry.SiloAddress)!.Item2, current.Version.Next()));
        current = await table.ReadAll();

        entry.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRow(entry, staleRowEtag, current.Version.Next()));

        var after = await table.ReadAll();
        Assert.Equal(current.Version, after.Version);
        Assert.Equal(SiloStatus.Active, after.TryGet(entry.SiloAddress)!.Item1.Status);
    }

    [Fact]
    public async Task Every_field_of_an_entry_round_trips()
    {
        var table = await TableAsync();
        var voter = SiloAddress.New(IPAddress.Parse("10.1.2.3"), 11111, 42);
        var entries = new[]
        {
            Entry(e =>
            {
                e.RoleName = "role-α";
                e.UpdateZone = 7;
                e.FaultZone = -3;
                e.ProxyPort = 0;
                e.Status = SiloStatus.ShuttingDown;
                e.SuspectTimes = [Tuple.Create(voter, new DateTime(2026, 12, 6, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567))];
                e.StartTime = new DateTime(2026, 12, 6, 1, 0, 0, DateTimeKind.Utc).AddTicks(10);
                e.IAmAliveTime = new DateTime(2026, 12, 6, 1, 5, 0, DateTimeKind.Utc);
            }),
            Entry(e => e.SuspectTimes = []),
            Entry(e => e.SuspectTimes = null),
            Entry(e => (e.SiloName, e.HostName) = (null!, null!)),
            Entry(e => e.SiloAddress = SiloAddress.New(IPAddress.Parse("fe80::1"), 30000, 5)),
        };
        foreach (var entry in entries)
        {
            Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));
        }

        var read = await table.ReadAll();
        foreach (var entry in entries)
        {
            var stored = read.TryGet(entry.SiloAddress)!.Item1;
            Assert.Equal(entry.ToFullString(), stored.ToFullString());
            Assert.Equal(entry.SuspectTimes?.Select(v => (v.Item1, v.Item2.Ticks)), stored.SuspectTimes?.Select(v => (v.Item1, v.Item2.Ticks)));
            Assert.Equal(entry.SuspectTimes is null, stored.SuspectTimes is null);
            Assert.Equal((entry.RoleName, entry.SiloName, entry.HostName), (stored.RoleName, stored.SiloName, stored.HostName));
        }

        // Start and I-am-alive times are timestamptz: kept to the microsecond.
        var first = read.TryGet(entries[0].SiloAddress)!.Item1;
        Assert.Equal(entries[0].StartTime.Ticks / 10, first.StartTime.Ticks / 10);
        Assert.Equal(DateTimeKind.Utc, first.StartTime.Kind);
    }

    [Fact]
    public async Task ETags_read_before_a_cluster_was_deleted_match_nothing_after_it_was_created_again()
    {
        var table = await TableAsync();
        var entry = Entry();
        Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));
        var before = await table.ReadAll();

        await table.DeleteMembershipTableEntries(_clusterId);
        Assert.Empty((await table.ReadAll()).Members);
        await table.InitializeMembershipTable(true);
        var fresh = await table.ReadAll();
        Assert.Equal(0, fresh.Version.Version);
        Assert.NotEqual(before.Version.VersionEtag, fresh.Version.VersionEtag);

        Assert.False(await table.InsertRow(Entry(), before.Version.Next()));
        Assert.True(await table.InsertRow(entry, fresh.Version.Next()));
        var now = await table.ReadAll();
        Assert.False(await table.UpdateRow(entry, before.Members[0].Item2, now.Version.Next()));
        Assert.NotEqual(before.Members[0].Item2, now.Members[0].Item2);
    }

    /// <summary>
    /// An update whose row is deleted while it runs (a cleanup, committed while the update waits for the row) changes
    /// nothing: no version bump is left behind for a row that was never updated.
    /// </summary>
    [Fact]
    public async Task An_update_whose_row_is_deleted_under_it_leaves_the_version_untouched()
    {
        var table = await TableAsync();
        var entry = Entry(e => e.Status = SiloStatus.Dead);
        Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));
        var before = await table.ReadAll();

        // The cleanup's delete, held open so that the update meets it.
        await using var connection = await fixture.Schema.DataSource.OpenConnectionAsync();
        await using var cleanup = await connection.BeginTransactionAsync();
        await using (var delete = new Npgsql.NpgsqlCommand(
            $"DELETE FROM \"{fixture.Schema.Name}\".orleans_membership WHERE cluster_id = @c AND generation = @g", connection, cleanup))
        {
            delete.Parameters.AddWithValue("c", _clusterId);
            delete.Parameters.AddWithValue("g", entry.SiloAddress.Generation);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }

        var update = table.UpdateRow(entry, before.TryGet(entry.SiloAddress)!.Item2, before.Version.Next());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await fixture.Schema.ScalarAsync<long>(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE @update",
                   ("update", $"%\"{fixture.Schema.Name}\".\"orleans_membership_version\" SET%")) == 0)
        {
            Assert.False(update.IsCompleted, "The update finished without meeting the open delete.");
            Assert.True(DateTime.UtcNow < deadline, "The update never waited for the row.");
            await Task.Delay(20);
        }

        await cleanup.CommitAsync();

        Assert.False(await update);
        var after = await table.ReadAll();
        Assert.Equal(before.Version, after.Version);
        Assert.Empty(after.Members);
    }

    [Fact]
    public async Task Writes_before_the_version_row_exists_fail_and_write_nothing()
    {
        var table = await TableAsync(initialize: false);
        var data = await table.ReadAll();
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);

        Assert.False(await table.InsertRow(Entry(), data.Version.Next()));
        await table.InitializeMembershipTable(true);
        Assert.Empty((await table.ReadAll()).Members);
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_it_and_nothing_is_written()
    {
        var table = await TableAsync();
        var version = (await table.ReadAll()).Version.Next();

        await Assert.ThrowsAsync<ArgumentNullException>(() => table.InsertRow(null!, version));
        await Assert.ThrowsAsync<ArgumentNullException>(() => table.InsertRow(Entry(), null!));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => table.InsertRow(Entry(e => e.SiloName = "bad\0name"), version));
        Assert.Contains("SiloName", error.Message);
        Assert.False(await table.InsertRow(Entry(), new TableVersion(1, "not-an-etag")));

        Assert.Empty((await table.ReadAll()).Members);
    }

    [Fact]
    public async Task Invalid_table_names_fail_the_start_naming_the_setting()
    {
        var services = new ServiceCollection().AddLogging().AddOptions();
        PostgresClusterServices.AddMembershipTable(services, o => o.Configure(c =>
        {
            c.ConnectionString = fixture.Schema.ConnectionString;
            c.MembershipVersionTable = "bad name";
        }));
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OrleansConfigurationException>(() =>
        {
            foreach (var validator in provider.GetServices<IConfigurationValidator>())
            {
                validator.ValidateConfiguration();
            }
        });
        Assert.Contains("PostgreSQL clustering", error.Message);
        Assert.Contains("PostgresClusteringOptions.MembershipVersionTable", error.Message);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    private async Task<IMembershipTable> TableAsync(bool initialize = true)
    {
        var services = new ServiceCollection().AddLogging().AddOptions();
        services.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, "guarantees"));
        PostgresClusterServices.AddMembershipTable(services, (OptionsBuilder<PostgresClusteringOptions> o) => o.Configure(c =>
        {
            c.ConnectionString = fixture.Schema.ConnectionString;
            c.Schema = fixture.Schema.Name;
        }));
        _services = services.BuildServiceProvider();
        var table = _services.GetRequiredService<IMembershipTable>();
        await table.InitializeMembershipTable(initialize);
        return table;
    }

    private static MembershipEntry Entry(Action<MembershipEntry>? configure = null)
    {
        var now = DateTime.UtcNow;
        var entry = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, 22222, Interlocked.Increment(ref generation)),
            HostName = "host",
            SiloName = "silo",
            Status = SiloStatus.Joining,
            ProxyPort = 30000,
            StartTime = now,
            IAmAliveTime = now,
        };
        configure?.Invoke(entry);
        return entry;
    }
}
