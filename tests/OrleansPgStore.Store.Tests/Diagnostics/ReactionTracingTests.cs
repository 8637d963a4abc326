using System.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Diagnostics;

public sealed class ReactionTracingTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    // A constant: listeners test the name while the static source is being created.
    private const string CallerName = "OrleansPgStore.Tests.ReactionCaller";
    private static readonly ActivitySource Caller = new(CallerName);

    [Fact]
    public async Task A_reaction_handles_in_the_trace_of_the_commit_and_links_to_it_with_claim_and_ack_spans()
    {
        await using var journal = await db.JournalAsync("rtrace_events");
        await using var leases = await db.LeasesAsync("rtrace_subs");
        using var events = new TelemetryCapture("rtrace_events", $"{db.Name}.rtrace_events", CallerName);
        using var subscriptions = new TelemetryCapture("rtrace_subs");
        using var handles = new TelemetryCapture("order/1");
        ActivityContext inHandler = default;
        var loop = new ReactionLoop(journal, leases, new ReactionRegistry().On("Happened", (_, _) =>
        {
            inHandler = Activity.Current?.Context ?? default;
            return Task.CompletedTask;
        }));

        ActivityTraceId trace;
        using (var call = Caller.StartActivity("grain call")!)
        {
            trace = call.TraceId;
            await journal.CommitAsync("order/1", Events.Many(2));
        }

        var commit = Assert.Single(events.SpansOf("journal.commit"));
        await Eventually.WaitAsync(async () => (await loop.RunCycleAsync()).Handled > 0, "the reaction handled the events");

        var handle = Assert.Single(handles.Spans, s => s.OperationName.StartsWith("reaction.handle", StringComparison.Ordinal));
        Assert.Equal(ActivityKind.Consumer, handle.Kind);
        Assert.Equal(trace, handle.TraceId);
        Assert.Equal(commit.SpanId, handle.ParentSpanId);
        var link = Assert.Single(handle.Links).Context;
        Assert.Equal((commit.TraceId, commit.SpanId), (link.TraceId, link.SpanId));
        Assert.Equal("order/1", handle.GetTagItem("orleanspgstore.target"));
        Assert.Equal(2, handle.GetTagItem("orleanspgstore.event_count"));
        Assert.Equal(handle.SpanId, inHandler.SpanId);
        Assert.Contains(subscriptions.SpansOf("lease.claim"), s => s.TraceId != default);
        Assert.Contains(subscriptions.SpansOf("lease.ack"), s => s.TraceId != default);
        Assert.Contains(handles.Of("orleanspgstore.reactions.delay"), m => m.Tag("lane") == "" && m.Value >= 0);
        Assert.Contains(subscriptions.Of("orleanspgstore.operation.duration"),
            m => m.Tag("operation") == "lease.claim" && m.Tag("db.collection.name") == $"{db.Name}.rtrace_subs");
    }

    [Fact]
    public async Task A_failing_handler_records_the_error_on_its_span()
    {
        await using var journal = await db.JournalAsync("rtrace_fail_events");
        await using var leases = await db.LeasesAsync("rtrace_fail_subs");
        using var handles = new TelemetryCapture("poison/1");
        var loop = new ReactionLoop(journal, leases, new ReactionRegistry().On("Happened", (_, _) => throw new InvalidOperationException("boom")),
            new ReactionOptions { Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.Zero, Jitter = 0 } });
        await journal.CommitAsync("poison/1", Events.Many(1));

        await Eventually.WaitAsync(async () => { await loop.RunCycleAsync(); return !handles.Spans.IsEmpty; }, "the handler ran");

        var handle = handles.Spans.First();
        Assert.Equal(ActivityStatusCode.Error, handle.Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, handle.GetTagItem("error.type"));
    }
}
