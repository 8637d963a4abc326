using System.Diagnostics;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// The peer: Marten's async daemon draining the same events (same payload, same stream layout) on the same server,
/// with a no-op projection and one storing a document per event. Marten keeps its own tables in a schema of its own.
/// </summary>
public sealed class MartenPeer : IAsyncDisposable
{
    private readonly BenchContext _context;
    private readonly string _schema;
    private readonly string _connectionString;
    private readonly int _events;

    private MartenPeer(BenchContext context, string schema, string connectionString, int events)
    {
        _context = context;
        _schema = schema;
        _connectionString = connectionString;
        _events = events;
    }

    /// <summary>Appends <paramref name="streams"/> × <paramref name="perStream"/> events to Marten's event store.</summary>
    public static async Task<MartenPeer> SeedAsync(BenchContext context, string connectionString, int streams, int perStream)
    {
        var schema = $"{context.Schema}_marten_{streams}";
        var peer = new MartenPeer(context, schema, connectionString, streams * perStream);
        await using var store = peer.Store(projection: null);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        for (var s = 0; s < streams; s += 10)
        {
            await using var session = store.LightweightSession();
            for (var k = s; k < Math.Min(streams, s + 10); k++)
            {
                session.Events.Append($"drain-{k}", Enumerable.Range(0, perStream).Select(_ => (object)new Happened(42, "EUR", "benchmark payload")).ToArray());
            }

            await session.SaveChangesAsync();
        }

        await context.ExecAsync($"VACUUM ANALYZE {schema}.mt_events");
        return peer;
    }

    /// <summary>Events per second for the daemon to take a fresh projection from 0 to the last event.</summary>
    public async Task<double> DrainAsync(bool writeDocuments)
    {
        var name = writeDocuments ? "rows" : "noop";
        await using var store = Store(writeDocuments ? new DocumentPerEvent() : new NoOp(), name);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await _context.ExecAsync($"DELETE FROM {_schema}.mt_event_progression WHERE name LIKE '{name}%'");
        if (writeDocuments)
        {
            await store.Advanced.Clean.DeleteDocumentsByTypeAsync(typeof(Effect));
        }

        var last = await _context.ScalarAsync<long>($"SELECT max(seq_id) FROM {_schema}.mt_events");
        using var daemon = await store.BuildProjectionDaemonAsync();
        var started = Stopwatch.GetTimestamp();
        await daemon.StartAllAsync();
        while (true)
        {
            var progress = await store.Advanced.AllProjectionProgress();
            if (progress.Any(p => p.ShardName.StartsWith(name, StringComparison.Ordinal) && p.Sequence >= last))
            {
                break;
            }

            await Task.Delay(5);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        await daemon.StopAllAsync();
        if (writeDocuments)
        {
            var stored = await _context.ScalarAsync<long>($"SELECT count(*) FROM {_schema}.mt_doc_martenpeer_effect");
            if (stored != _events)
            {
                throw new InvalidOperationException($"Marten stored {stored} documents for {_events} events");
            }
        }

        return _events / elapsed.TotalSeconds;
    }

    public async ValueTask DisposeAsync() => await _context.ExecAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");

    private DocumentStore Store(IProjection? projection, string? name = null) => DocumentStore.For(options =>
    {
        options.Connection(_connectionString);
        options.DatabaseSchemaName = _schema;
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Events.AddEventType<Happened>();
        options.Schema.For<Effect>();
        if (projection is not null)
        {
            options.Projections.Add(projection, ProjectionLifecycle.Async, name);
        }
    });

    /// <summary>The event, shaped like the benchmark payload.</summary>
    public sealed record Happened(int Amount, string Currency, string Note);

    /// <summary>The document stored per event.</summary>
    public sealed class Effect
    {
        public string Id { get; set; } = "";

        public string Stream { get; set; } = "";
    }

    private sealed class NoOp : IProjection
    {
        public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation) => Task.CompletedTask;
    }

    private sealed class DocumentPerEvent : IProjection
    {
        public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
        {
            foreach (var e in events)
            {
                operations.Store(new Effect { Id = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Stream = e.StreamKey! });
            }

            return Task.CompletedTask;
        }
    }
}
