using System.Diagnostics;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Diagnostics;

public sealed class StoreTracingTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    // A constant: listeners test the name while the static source is being created.
    private const string CallerName = "OrleansPgStore.Tests.Caller";
    private static readonly ActivitySource Caller = new(CallerName);

    [Fact]
    public async Task A_commit_is_a_child_span_of_the_call_with_database_attributes_and_its_context_is_stored_with_the_events()
    {
        await using var store = await db.JournalAsync("trace_commit");
        using var capture = new TelemetryCapture("trace_commit", alsoSources: CallerName);

        RecordedEvent stored;
        string commitId;
        using (var call = Caller.StartActivity("grain call"))
        {
            Assert.NotNull(call);
            await store.CommitAsync("s", Events.Many(2));
            var commit = Assert.Single(capture.SpansOf("journal.commit"));
            Assert.Equal(call.SpanId, commit.ParentSpanId);
            Assert.Equal(call.TraceId, commit.TraceId);
            Assert.Equal(ActivityKind.Client, commit.Kind);
            Assert.Equal("journal.commit trace_commit", commit.DisplayName);
            Assert.Equal("postgresql", commit.GetTagItem("db.system.name"));
            Assert.Equal($"{db.Name}.trace_commit", commit.GetTagItem("db.collection.name"));
            Assert.Equal("s", commit.GetTagItem("orleanspgstore.stream"));
            Assert.Equal(2, commit.GetTagItem("orleanspgstore.event_count"));
            Assert.NotNull(commit.GetTagItem("db.namespace"));
            Assert.Equal(ActivityStatusCode.Unset, commit.Status);
            commitId = commit.Id!;
        }

        stored = (await store.LoadAsync("s").ToListAsync())[1];
        Assert.Equal(commitId, stored.Metadata.Causation?.TraceParent);
        Assert.Single(capture.SpansOf("journal.load"));
    }

    [Fact]
    public async Task Reads_queries_snapshots_and_states_are_spans_too()
    {
        await using var store = await db.JournalAsync("trace_reads");
        await using var states = await db.StateAsync("trace_states");
        using var capture = new TelemetryCapture("trace_reads");
        using var stateCapture = new TelemetryCapture("trace_states");

        await store.CommitAsync("s", Events.Many(3));
        await store.SaveSnapshotAsync("s", 2, "{}");
        await store.ReadStreamAsync("s").ToListAsync();
        await store.QueryAsync(new JournalQuery { Stream = "s" }).ToListAsync();
        await store.TruncateBeforeAsync(DateTimeOffset.UtcNow.AddDays(1), "s");
        await states.UpsertAsync("p", 0, "{}");
        await states.LoadAsync("p");
        await states.DeleteAsync("p");

        foreach (var (operation, table, spans) in new[]
                 {
                     ("journal.commit", "trace_reads", capture), ("journal.snapshot", "trace_reads", capture),
                     ("journal.read", "trace_reads", capture), ("journal.query", "trace_reads", capture),
                     ("journal.retention", "trace_reads", capture), ("state.upsert", "trace_states", stateCapture),
                     ("state.load", "trace_states", stateCapture), ("state.delete", "trace_states", stateCapture),
                 })
        {
            var span = Assert.Single(spans.SpansOf(operation));
            Assert.Equal($"{operation} {table}", span.DisplayName);
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }
    }

    [Fact]
    public async Task A_failure_is_recorded_on_its_span_with_the_exception()
    {
        // Never seeded: the table is missing.
        await using var store = new JournalStore(db.JournalOptions("trace_missing"));
        using var capture = new TelemetryCapture("trace_missing");

        await Assert.ThrowsAsync<StoreNotSeededException>(() => store.CommitAsync("s", Events.Many(1)));

        var span = Assert.Single(capture.SpansOf("journal.commit"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(typeof(StoreNotSeededException).FullName, span.GetTagItem("error.type"));
        var exception = Assert.Single(span.Events, e => e.Name == "exception");
        Assert.Contains(exception.Tags, t => t.Key == "exception.type" && (string?)t.Value == typeof(StoreNotSeededException).FullName);
    }

    [Fact]
    public async Task A_conflict_is_an_outcome_not_an_error()
    {
        await using var store = await db.JournalAsync("trace_conflict");
        using var capture = new TelemetryCapture("trace_conflict");
        await store.CommitAsync("s", Events.Many(1));

        await Assert.ThrowsAsync<StreamConcurrencyException>(() => store.CommitAsync("s", Events.Many(1), expectedVersion: -1));

        var failed = capture.SpansOf("journal.commit").Last();
        Assert.Equal(ActivityStatusCode.Unset, failed.Status);
        Assert.Equal("conflict", failed.GetTagItem("orleanspgstore.outcome"));
    }

    [Fact]
    public async Task A_given_trace_parent_becomes_the_commit_span_parent()
    {
        await using var store = await db.JournalAsync("trace_given");
        using var capture = new TelemetryCapture("trace_given");
        var remote = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var traceParent = $"00-{remote.TraceId}-{remote.SpanId}-01";

        var committed = await store.CommitAsync("s", Events.Many(1), new EventMetadata("c", new EventCausation(TraceParent: traceParent)));

        var commit = Assert.Single(capture.SpansOf("journal.commit"));
        Assert.Equal(remote.TraceId, commit.TraceId);
        Assert.Equal(remote.SpanId, commit.ParentSpanId);
        Assert.Equal(commit.Id, committed[0].Metadata.Causation?.TraceParent);
    }

    [Fact]
    public async Task Without_a_listener_or_a_current_activity_nothing_is_traced_or_stored()
    {
        await using var store = await db.JournalAsync("trace_none");
        Assert.Null(Activity.Current);

        var committed = await store.CommitAsync("s", Events.Many(1));

        Assert.Same(EventMetadata.None, committed[0].Metadata);
        Assert.Same(EventMetadata.None, (await store.LoadAsync("s").ToListAsync())[0].Metadata);
    }

    [Fact]
    public async Task Without_a_listener_the_callers_activity_is_stored()
    {
        await using var store = await db.JournalAsync("trace_caller_only");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == CallerName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var call = Caller.StartActivity("call")!;

        var committed = await store.CommitAsync("s", Events.Many(1), new EventMetadata("corr"));

        Assert.Equal(call.Id, committed[0].Metadata.Causation?.TraceParent);
        Assert.Equal(call.Id, (await store.QueryAsync(new JournalQuery { CorrelationId = "corr" }).ToListAsync()).Single().Metadata.Causation?.TraceParent);
    }

    [Fact]
    public async Task A_trace_parent_that_is_not_w3c_is_refused_before_any_io()
    {
        await using var store = await db.JournalAsync("trace_bad");

        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.CommitAsync("s", Events.Many(1), new EventMetadata(Causation: new EventCausation(TraceParent: "nope"))));

        Assert.Contains("traceparent", e.Message);
        Assert.Equal(0, await db.CountAsync("trace_bad"));
    }
}
