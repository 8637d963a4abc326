#pragma warning disable CS0618 // the pre-10.3 membership members are what Orleans' ADO.NET table implements; ours forward
using System.Data.Common;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.MembershipService;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Hosting;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Plugin.Benchmarks.Tables;

/// <summary>
/// The membership and reminder tables against Orleans' ADO.NET PostgreSQL providers (10.4.2, their own scripts), on the
/// same server in the same run: reminder upserts and ring-range reads, membership reads, the protocol's read-then-update
/// step and I-am-alive writes. Each side has its own database, filled with the same rows.
/// </summary>
internal static class ClusterTablesBenchmark
{
    private const int Reminders = 10_000;
    private const int Silos = 20;
    private const int Writers = 8;

    public static async Task RunAsync(BenchmarkArguments arguments, Report report)
    {
        var duration = TimeSpan.FromSeconds(arguments.Number("--seconds", 3.0));
        // Orleans' own PostgreSQL scripts for its ADO.NET providers are not in their NuGet packages and are not copied
        // into this repository: point at a checkout of dotnet/orleans (src/AdoNet/Shared/PostgreSQL-Main.sql,
        // src/AdoNet/Orleans.Clustering.AdoNet/PostgreSQL-Clustering.sql, src/AdoNet/Orleans.Reminders.AdoNet/PostgreSQL-Reminders.sql).
        var scripts = arguments.String("--adonet-scripts") ?? throw new ArgumentException(
            "--scenario tables needs --adonet-scripts DIR: a folder holding Orleans' PostgreSQL-Main.sql, PostgreSQL-Clustering.sql " +
            "and PostgreSQL-Reminders.sql (from a checkout of dotnet/orleans at the tag of the Orleans packages, src/AdoNet/).");
        var external = Environment.GetEnvironmentVariable("ORLEANSPGSTORE_BENCH_CONNECTION");
        await using var server = external is null ? await PrivatePostgresCluster.StartAsync(durable: true) : null;
        var admin = new NpgsqlConnectionStringBuilder(external ?? server!.ConnectionString) { MaxPoolSize = 100 };
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var ours = await CreateDatabaseAsync(admin, "tables_ours_" + suffix);
        var ado = await CreateDatabaseAsync(admin, "tables_adonet_" + suffix);
        await ApplyAdoNetScriptsAsync(ado, scripts);
        Console.WriteLine($"Clustering and reminder tables, {duration.TotalSeconds}s per measurement; baseline: Orleans' ADO.NET providers");

        DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
        var cluster = Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = "bench", ServiceId = "bench" });
        await using var services = Services(cluster, ours, ado);
        var (ourReminders, adoReminders) = (services.GetRequiredKeyedService<IReminderTable>("ours"), services.GetRequiredKeyedService<IReminderTable>("ado"));
        var (ourMembers, adoMembers) = (services.GetRequiredKeyedService<IMembershipTable>("ours"), services.GetRequiredKeyedService<IMembershipTable>("ado"));
        await ourReminders.StartAsync();
        await adoReminders.StartAsync();
        await ourMembers.InitializeMembershipTable(true);
        await adoMembers.InitializeMembershipTable(true);

        // Reminders: upserts from several writers, then ring ranges over the same rows.
        var grains = Enumerable.Range(0, Reminders).Select(i => GrainId.Create("bench-reminder", i.ToString())).ToArray();
        var upsertAdo = await Harness.RunAsync(Writers, duration, (w, i) => adoReminders.UpsertRow(Reminder(grains[(int)((w * 7919 + i) % Reminders)])));
        var upsertOurs = await Harness.RunAsync(Writers, duration, (w, i) => ourReminders.UpsertRow(Reminder(grains[(int)((w * 7919 + i) % Reminders)])));
        report.Add($"Reminder UpsertRow, {Writers} writers over {Reminders:#,0} reminders (ops/s; baseline ADO.NET)", upsertAdo.PerSecond, upsertOurs.PerSecond, "ops/s", "≥ 1.5×");

        await Task.WhenAll(grains.Chunk(Reminders / Writers).Select(async chunk =>
        {
            foreach (var grain in chunk)
            {
                await adoReminders.UpsertRow(Reminder(grain));
                await ourReminders.UpsertRow(Reminder(grain));
            }
        }));
        const uint Sixteenth = uint.MaxValue / 16;
        var range = await Harness.PairedMedianMsAsync(50, () => adoReminders.ReadRows(5 * Sixteenth, 6 * Sixteenth), () => ourReminders.ReadRows(5 * Sixteenth, 6 * Sixteenth));
        report.Add($"Reminder ReadRows over 1/16 of the ring of {Reminders:#,0} (median ms; baseline ADO.NET)", range.Baseline, range.Ours, "ms", "≤ 0.67×", lowerIsBetter: true);
        var wrapped = await Harness.PairedMedianMsAsync(50, () => adoReminders.ReadRows(15 * Sixteenth, Sixteenth), () => ourReminders.ReadRows(15 * Sixteenth, Sixteenth));
        report.Add("Reminder ReadRows over a wrapped range of 1/8 of the ring (median ms; baseline ADO.NET)", wrapped.Baseline, wrapped.Ours, "ms", "≤ 0.67×", lowerIsBetter: true);
        var grain = await Harness.PairedMedianMsAsync(200, () => adoReminders.ReadRows(grains[42]), () => ourReminders.ReadRows(grains[42]));
        report.Add("Reminder ReadRows of one grain (median ms; baseline ADO.NET)", grain.Baseline, grain.Ours, "ms", "≤ 0.67×", lowerIsBetter: true);

        // Membership: a cluster of 20 silos; the protocol reads the table, then updates one row under the version read.
        var entries = Enumerable.Range(1, Silos).Select(Entry).ToArray();
        foreach (var entry in entries)
        {
            Assert(await adoMembers.InsertRow(entry, (await adoMembers.ReadAll()).Version.Next()), "ADO.NET insert");
            Assert(await ourMembers.InsertRow(entry, (await ourMembers.ReadAll()).Version.Next()), "our insert");
        }

        var readAll = await Harness.PairedMedianMsAsync(200, () => adoMembers.ReadAll(), () => ourMembers.ReadAll());
        report.Add($"Membership ReadAll of {Silos} silos (median ms; baseline ADO.NET)", readAll.Baseline, readAll.Ours, "ms", "≤ 0.67×", lowerIsBetter: true);
        var updateAdo = await Harness.RunAsync(1, duration, (_, i) => ReadThenUpdateAsync(adoMembers, entries[i % Silos]));
        var updateOurs = await Harness.RunAsync(1, duration, (_, i) => ReadThenUpdateAsync(ourMembers, entries[i % Silos]));
        report.Add("Membership ReadAll + UpdateRow, the protocol's write step (ops/s; baseline ADO.NET)", updateAdo.PerSecond, updateOurs.PerSecond, "ops/s", "≥ 1.5×");
        var aliveAdo = await Harness.RunAsync(Writers, duration, (w, i) => adoMembers.UpdateIAmAlive(Alive(entries[w % Silos])));
        var aliveOurs = await Harness.RunAsync(Writers, duration, (w, i) => ourMembers.UpdateIAmAlive(Alive(entries[w % Silos])));
        report.Add($"Membership UpdateIAmAlive, {Writers} silos (ops/s; baseline ADO.NET)", aliveAdo.PerSecond, aliveOurs.PerSecond, "ops/s", "≥ 1.5×");
    }

    private static ServiceProvider Services(IOptions<ClusterOptions> cluster, string ours, string ado)
    {
        var services = new ServiceCollection().AddLogging().AddOptions();
        services.AddSingleton(cluster);
        PostgresClusterServices.AddReminderTable(services, o => o.Configure(r => r.ConnectionString = ours));
        PostgresClusterServices.AddMembershipTable(services, o => o.Configure(m => m.ConnectionString = ours));
        services.AddKeyedSingleton("ours", (sp, _) => sp.GetRequiredService<IReminderTable>());
        services.AddKeyedSingleton("ours", (sp, _) => sp.GetRequiredService<IMembershipTable>());

        var adoServices = new ServiceCollection().AddLogging().AddOptions();
        adoServices.AddSingleton(cluster);
        adoServices.UseAdoNetReminderService(o => o.Configure(r => (r.Invariant, r.ConnectionString) = ("Npgsql", ado)));
        var adoProvider = adoServices.BuildServiceProvider();
        services.AddKeyedSingleton("ado", (_, _) => adoProvider.GetRequiredService<IReminderTable>());
        services.AddKeyedSingleton<IMembershipTable>("ado", (sp, _) => new AdoNetClusteringTable(
            sp,
            cluster,
            Microsoft.Extensions.Options.Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = ado }),
            NullLogger<AdoNetClusteringTable>.Instance));
        return services.BuildServiceProvider();
    }

    private static async Task ReadThenUpdateAsync(IMembershipTable table, MembershipEntry entry)
    {
        var data = await table.ReadAll();
        var row = data.TryGet(entry.SiloAddress)!;
        row.Item1.IAmAliveTime = DateTime.UtcNow;
        Assert(await table.UpdateRow(row.Item1, row.Item2, data.Version.Next()), "update with the ETags just read");
    }

    private static ReminderEntry Reminder(GrainId grain) => new()
    {
        GrainId = grain,
        ReminderName = "tick",
        StartAt = DateTime.UtcNow,
        Period = TimeSpan.FromMinutes(1),
    };

    private static MembershipEntry Entry(int generation) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, 11111, generation),
        SiloName = "silo-" + generation,
        HostName = "bench",
        Status = SiloStatus.Active,
        ProxyPort = 30000,
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
    };

    private static MembershipEntry Alive(MembershipEntry entry) => new() { SiloAddress = entry.SiloAddress, IAmAliveTime = DateTime.UtcNow };

    private static void Assert(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark precondition failed: {what}");
        }
    }

    private static async Task<string> CreateDatabaseAsync(NpgsqlConnectionStringBuilder admin, string database)
    {
        await using (var source = NpgsqlDataSource.Create(admin.ConnectionString))
        await using (var command = source.CreateCommand($"CREATE DATABASE \"{database}\""))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = database }.ConnectionString;
    }

    private static async Task ApplyAdoNetScriptsAsync(string connectionString, string folder)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        foreach (var name in (string[])["PostgreSQL-Main.sql", "PostgreSQL-Clustering.sql", "PostgreSQL-Reminders.sql"])
        {
            var script = Path.Combine(folder, name);
            if (!File.Exists(script))
            {
                throw new FileNotFoundException($"--adonet-scripts: {script} is missing.", script);
            }

            await using var command = source.CreateCommand(await File.ReadAllTextAsync(script));
            await command.ExecuteNonQueryAsync();
        }
    }
}
