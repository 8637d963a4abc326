// The cases of dotnet/orleans test/Extensions/Orleans.AdoNet.Tests/Reminders/PostgreSqlRemindersTableTests.cs (tag
// v10.2.2), run against UsePostgresReminderService's table; then what the port adds: ring boundaries as a corpus, ETags
// that are never reused, and grain ids that must survive their text form.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reminders;

/// <summary>One schema for the class; each test is its own service id in it.</summary>
public sealed class ReminderSchemaFixture : IAsyncLifetime
{
    public PostgresTestSchema Schema { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Schema = await PostgresTestSchema.CreateAsync("reminders");

    public ValueTask DisposeAsync() => Schema.DisposeAsync();
}

public sealed class PostgresReminderTableTests(ReminderSchemaFixture fixture) : ReminderTableTestsBase, IClassFixture<ReminderSchemaFixture>
{
    private ServiceProvider? _services;

    protected override Task<IReminderTable> CreateRemindersTable()
    {
        var services = new ServiceCollection().AddLogging().AddOptions();
        services.AddSingleton(clusterOptions);
        PostgresClusterServices.AddReminderTable(services, options => options.Configure(o =>
        {
            o.ConnectionString = fixture.Schema.ConnectionString;
            o.Schema = fixture.Schema.Name;
        }));
        _services = services.BuildServiceProvider();
        return Task.FromResult(_services.GetRequiredService<IReminderTable>());
    }

    protected override ValueTask DisposeTableAsync() => _services!.DisposeAsync();

    [Fact]
    public void RemindersTable_PostgreSql_Init()
    {
    }

    [Fact]
    public Task RemindersTable_PostgreSql_RemindersRange() => RemindersRange(iterations: 50);

    [Fact]
    public Task RemindersTable_PostgreSql_RemindersParallelUpsert() => RemindersParallelUpsert();

    [Fact]
    public Task RemindersTable_PostgreSql_ReminderSimple() => ReminderSimple();

    /// <summary>
    /// Ranges at the ring's edges and at stored hashes: (h, h] is the whole ring, begin is exclusive and end inclusive,
    /// and hashes above <see cref="int.MaxValue"/> order as unsigned numbers (a signed comparison would put them below 0).
    /// </summary>
    [Fact]
    public async Task Ring_ranges_at_the_edges_and_at_stored_hashes_match_the_unsigned_ring()
    {
        var grains = Enumerable.Range(0, 200).Select(_ => MakeTestGrainReference()).ToArray();
        foreach (var grain in grains)
        {
            await RemindersTable.UpsertRow(CreateReminder(grain, "r"));
        }

        var hashes = grains.Select(g => g.GetUniformHashCode()).ToArray();
        Assert.Contains(hashes, h => h > int.MaxValue);
        Assert.Contains(hashes, h => h <= int.MaxValue);

        var sorted = hashes.Order().ToArray();
        var bounds = new List<uint> { 0, 1, int.MaxValue, (uint)int.MaxValue + 1, uint.MaxValue - 1, uint.MaxValue, sorted[0], sorted[^1], sorted[100] };
        bounds.AddRange(bounds.Where(b => b > 0).Select(b => b - 1).ToList());
        foreach (var begin in bounds)
        {
            foreach (var end in bounds)
            {
                await TestRemindersHashInterval(RemindersTable, begin, end, hashes);
            }
        }

        Assert.Equal(200, (await RemindersTable.ReadRows(sorted[100], sorted[100])).Reminders.Count);
    }

    [Fact]
    public async Task A_reminder_removed_and_registered_again_never_gets_an_ETag_a_stale_caller_still_holds()
    {
        var grain = MakeTestGrainReference();
        var seen = new HashSet<string>();
        for (var round = 0; round < 5; round++)
        {
            var etag = await RemindersTable.UpsertRow(CreateReminder(grain, "again"));
            Assert.NotNull(etag);
            Assert.True(seen.Add(etag), $"ETag {etag} was handed out twice");
            Assert.True(await RemindersTable.RemoveRow(grain, "again", etag));
        }

        var current = await RemindersTable.UpsertRow(CreateReminder(grain, "again"));
        foreach (var stale in seen)
        {
            Assert.False(await RemindersTable.RemoveRow(grain, "again", stale));
        }

        Assert.Equal(current, (await RemindersTable.ReadRow(grain, "again"))!.ETag);
    }

    [Fact]
    public async Task Every_field_round_trips_and_ETags_that_were_never_handed_out_match_nothing()
    {
        var grain = MakeTestGrainReference();
        var entry = new ReminderEntry
        {
            GrainId = grain,
            ReminderName = "exact",
            StartAt = new DateTime(2026, 12, 6, 13, 14, 15, 123, DateTimeKind.Utc).AddTicks(4560),
            Period = TimeSpan.FromTicks(TimeSpan.TicksPerMinute * 7 + 1),
        };
        var etag = await RemindersTable.UpsertRow(entry);

        var read = await RemindersTable.ReadRow(grain, "exact");
        Assert.NotNull(read);
        Assert.Equal((grain, "exact", entry.StartAt, entry.Period, etag), (read.GrainId, read.ReminderName, read.StartAt, read.Period, read.ETag));
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
        Assert.Single((await RemindersTable.ReadRows(grain)).Reminders);
        Assert.Null(await RemindersTable.ReadRow(grain, "missing"));

        foreach (var wrong in new[] { "", "abc", "-1", " 1", etag + "0" })
        {
            Assert.False(await RemindersTable.RemoveRow(grain, "exact", wrong));
        }

        Assert.NotNull(await RemindersTable.ReadRow(grain, "exact"));
    }

    [Fact]
    public async Task A_start_time_of_unspecified_kind_is_taken_as_UTC()
    {
        var grain = MakeTestGrainReference();
        var utc = new DateTime(2026, 12, 6, 10, 0, 0, DateTimeKind.Utc);
        await RemindersTable.UpsertRow(new ReminderEntry
        {
            GrainId = grain, ReminderName = "kind", StartAt = DateTime.SpecifyKind(utc, DateTimeKind.Unspecified), Period = TimeSpan.FromMinutes(1),
        });

        Assert.Equal(utc, (await RemindersTable.ReadRow(grain, "kind"))!.StartAt);
    }

    /// <summary>Grain ids of every kind survive their text form; one that would parse back to another id is refused.</summary>
    [Fact]
    public async Task Grain_ids_of_every_key_kind_round_trip_and_one_whose_text_parses_to_another_id_is_refused()
    {
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var ids = new[]
        {
            GrainId.Create("reminder-probe", "plain"),
            GrainId.Create("reminder-probe", "with/slash+plus and spaces"),
            GrainId.Create("reminder-probe", "ünïcödé 😀"),
            GrainId.Create("my.app.grain", "dotted-type"),
            GrainId.Create(GrainType.Create("int-key"), GrainIdKeyExtensions.CreateIntegerKey(-1)),
            GrainId.Create(GrainType.Create("int-key"), GrainIdKeyExtensions.CreateIntegerKey(42, "ext")),
            GrainId.Create(GrainType.Create("guid-key"), GrainIdKeyExtensions.CreateGuidKey(guid)),
            GrainId.Create(GrainType.Create("guid-key"), GrainIdKeyExtensions.CreateGuidKey(guid, "ext/with+plus")),
        };
        foreach (var id in ids)
        {
            var etag = await RemindersTable.UpsertRow(new ReminderEntry
            {
                GrainId = id, ReminderName = "kinds", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1),
            });
            var read = await RemindersTable.ReadRow(id, "kinds");
            Assert.NotNull(read);
            Assert.Equal((id, etag), (read.GrainId, read.ETag));
            Assert.Contains((await RemindersTable.ReadRows(id.GetUniformHashCode() - 1, id.GetUniformHashCode())).Reminders, r => r.GrainId == id);
        }

        var ambiguous = GrainId.Create("type/with-slash", "key");
        Assert.NotEqual(ambiguous, GrainId.Parse(ambiguous.ToString()));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RemindersTable.UpsertRow(new ReminderEntry
        {
            GrainId = ambiguous, ReminderName = "kinds", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1),
        }));
        Assert.Contains("type/with-slash/key", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await fixture.Schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{fixture.Schema.Name}\".orleans_reminders WHERE grain_id LIKE 'type/%'"));
    }
}
