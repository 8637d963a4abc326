using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Diagnostics;

/// <summary>One trace from a grain call through the commit to the reaction's handler.</summary>
public sealed class ReactionTraceTests : IAsyncLifetime
{
    // A constant: listeners test the name while the static source is being created.
    private const string CallerName = "OrleansPgStore.Tests.TraceCaller";
    private static readonly ActivitySource Caller = new(CallerName);
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<ActivityContext> _handled = new();
    private ActivityListener _listener = null!;
    private PostgresTestSchema _schema = null!;
    private InProcessTestCluster _cluster = null!;

    public async ValueTask InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is CallerName or StoreInstruments.Name || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == StoreInstruments.Name && (string?)a.GetTagItem("orleanspgstore.stream") is "account/traced"
                    || (string?)a.GetTagItem("orleanspgstore.target") is "account/traced")
                {
                    _spans.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _schema = await PostgresTestSchema.CreateAsync("trace");
        _cluster = TestClusters.Build(
            _schema.ConnectionString, _schema.Name, silos: 1,
            configure: options =>
            {
                options.Reactions.Worker.PollInterval = TimeSpan.FromMilliseconds(100);
                options.Reactions.On("test.deposited", (e, _, _) =>
                {
                    if (e.Stream == "account/traced")
                    {
                        _handled.Enqueue(Activity.Current?.Context ?? default);
                    }

                    return Task.CompletedTask;
                });
            },
            configureSilo: silo => silo.UseInMemoryReminderService().AddActivityPropagation(),
            configureClient: client => client.AddActivityPropagation());
        await _cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _schema.DisposeAsync();
        _listener.Dispose();
    }

    [Fact]
    public async Task The_handler_runs_in_the_trace_of_the_grain_call_as_a_child_of_the_commit()
    {
        ActivityTraceId trace;
        using (var request = Caller.StartActivity("client request")!)
        {
            trace = request.TraceId;
            await _cluster.Client.GetGrain<IAccountGrain>("traced").Deposit(5, "traced");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_handled.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "the reaction never handled the event");
            await Task.Delay(20);
        }

        // The listener hears every test class in this process (EventMetadataTests commits to "account/traced" too, in
        // its own cluster): the commit is the one in this call's trace, and there is exactly one.
        var commit = Assert.Single(_spans, s => s.TraceId == trace && (string?)s.GetTagItem("db.operation.name") == "journal.commit");
        var handle = Assert.Single(_spans, s => s.OperationName.StartsWith("reaction.handle", StringComparison.Ordinal) && s.TraceId == trace);
        Assert.Equal(commit.SpanId, handle.ParentSpanId);
        Assert.Contains(handle.Links, l => l.Context.SpanId == commit.SpanId);
        var inHandler = Assert.Single(_handled);
        Assert.Equal(trace, inHandler.TraceId);
        Assert.Equal(handle.SpanId, inHandler.SpanId);
    }
}
