using System.Diagnostics;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Diagnostics;

/// <summary>JournaledGrain events carry the correlation, causation and trace context of the call that raised them.</summary>
public sealed class EventMetadataTests : IAsyncLifetime
{
    private const string CallerName = "OrleansPgStore.Tests.Caller";
    private static readonly ActivitySource Caller = new(CallerName);
    private PostgresTestSchema _schema = null!;
    private InProcessTestCluster _cluster = null!;
    private JournalStore _journal = null!;

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("metadata");
        _cluster = TestClusters.Build(
            _schema.ConnectionString, _schema.Name, silos: 1,
            configureSilo: silo => silo.AddActivityPropagation(),
            configureClient: client => client.AddActivityPropagation());
        await _cluster.DeployAsync();
        _journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _cluster.DisposeAsync();
        await _schema.DisposeAsync();
    }

    [Fact]
    public async Task A_correlation_id_and_command_set_for_a_call_are_stored_and_queryable()
    {
        RequestContext.Set(JournalRequestContext.CorrelationIdKey, "order-17");
        RequestContext.Set(JournalRequestContext.CausationKey, "PlaceOrder");
        try
        {
            await _cluster.Client.GetGrain<IAccountGrain>("correlated").DepositMany(2, 5, "m");
        }
        finally
        {
            RequestContext.Clear();
        }

        await _cluster.Client.GetGrain<IAccountGrain>("correlated").Deposit(1, "uncorrelated");

        var found = await Query(new JournalQuery { CorrelationId = "order-17" });
        Assert.Equal([0L, 1], found.Select(e => e.Version));
        Assert.All(found, e => Assert.Equal("PlaceOrder", e.Metadata.Causation?.Command));
        Assert.All(found, e => Assert.Equal("account/correlated", e.Stream));
    }

    [Fact]
    public async Task Without_request_context_the_current_trace_gives_correlation_causation_and_trace_parent()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == CallerName || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        ActivityTraceId trace;
        using (var call = Caller.StartActivity("client request"))
        {
            trace = call!.TraceId;
            await _cluster.Client.GetGrain<IAccountGrain>("traced").Deposit(3, "traced");
        }

        var stored = Assert.Single(await Query(new JournalQuery { Stream = "account/traced" }));
        Assert.Equal(trace.ToHexString(), stored.Metadata.CorrelationId);
        Assert.Contains("Deposit", stored.Metadata.Causation?.Command);
        Assert.True(ActivityContext.TryParse(stored.Metadata.Causation?.TraceParent, null, out var parent));
        Assert.Equal(trace, parent.TraceId);
    }

    [Fact]
    public async Task Without_a_trace_or_request_context_events_carry_no_metadata()
    {
        Assert.Null(Activity.Current);

        await _cluster.Client.GetGrain<IAccountGrain>("plain").Deposit(1, "plain");

        var stored = Assert.Single(await Query(new JournalQuery { Stream = "account/plain" }));
        Assert.Null(stored.Metadata.CorrelationId);
    }

    /// <summary>
    /// Calls that raise without waiting for their events (or reentrant calls that await meanwhile) can have their
    /// events written in one commit, and a commit has one metadata: the first call's.
    /// </summary>
    [Fact]
    public async Task Events_of_several_calls_written_in_one_commit_carry_the_first_calls_metadata()
    {
        var tally = _cluster.Client.GetGrain<IPlainTallyGrain>("shared-metadata");
        const string stream = "tally-plain/shared-metadata";

        // An uncommitted row at version 0 holds the grain's first write in the database, so the events raised
        // meanwhile queue behind it and are written together in the next one.
        await using var holder = await _schema.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand(
            $"INSERT INTO \"{_schema.Name}\".events (position, stream, version, name, data, snapshot) " +
            $"VALUES (-1, '{stream}', 0, 'held', '{{}}', false)", holder, hold))
        {
            await insert.ExecuteNonQueryAsync();
        }

        await RaiseAsCorrelatedAsync(tally, "first", "call-0");
        await Eventually.WaitAsync(
            async () => await _schema.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO%events%'") > 0,
            "the first write waits for the held row");
        await RaiseAsCorrelatedAsync(tally, "second", "call-1");
        await RaiseAsCorrelatedAsync(tally, "third", "call-2");
        await hold.RollbackAsync();
        await tally.Confirm();

        var stored = await Query(new JournalQuery { Stream = stream });
        Assert.Equal([0L, 1, 2], stored.Select(e => e.Version));
        Assert.Equal(["call-0", "call-1", "call-1"], stored.Select(e => e.Metadata.CorrelationId));
        Assert.Equal(["RaiseFirst", "RaiseSecond", "RaiseSecond"], stored.Select(e => e.Metadata.Causation?.Command));
        // One commit: the same transaction gave both their positions.
        Assert.Equal(stored[1].Position >> 20, stored[2].Position >> 20);
    }

    private static async Task RaiseAsCorrelatedAsync(ITallyGrain tally, string key, string correlationId)
    {
        RequestContext.Set(JournalRequestContext.CorrelationIdKey, correlationId);
        RequestContext.Set(JournalRequestContext.CausationKey, key == "first" ? "RaiseFirst" : key == "second" ? "RaiseSecond" : "RaiseThird");
        try
        {
            await tally.Raise(key, 1);
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    private async Task<List<RecordedEvent>> Query(JournalQuery query)
    {
        var events = new List<RecordedEvent>();
        await foreach (var e in _journal.QueryAsync(query))
        {
            events.Add(e);
        }

        return events;
    }
}
