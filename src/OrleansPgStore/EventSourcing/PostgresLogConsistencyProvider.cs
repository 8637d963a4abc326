using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.EventSourcing;
using Orleans.Serialization;
using Orleans.Serialization.Session;
using Orleans.Serialization.TypeSystem;
using Orleans.Storage;
using OrleansPgStore.Options;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// A log-consistency provider that keeps each JournaledGrain's events as one stream in a PostgreSQL events table.
/// Register it with <c>AddPostgresJournal</c> or <c>AddPostgresLogConsistencyProvider</c>; use it from a grain
/// with <c>[LogConsistencyProvider(ProviderName = "…")]</c>, or without the attribute when it is the default.
/// </summary>
/// <remarks>
/// <para>A grain's stream is <see cref="JournalStreamNames.For"/> of its id. Activation reads the newest snapshot
/// and the events after it; every write commits with the expected stream version; retried writes are idempotent by
/// event id; <c>RetrieveConfirmedEvents</c> reads from SQL; <c>ClearLogAsync</c> truncates the stream to a
/// tombstone, after which the grain's version restarts at 0.</para>
/// <para>Events are stored as <c>jsonb</c> with System.Text.Json, under the names <see cref="EventTypeNames"/>
/// gives them; snapshots hold the state in Orleans' own serialization (see <see cref="JournalSnapshot"/>).</para>
/// </remarks>
internal sealed class PostgresLogConsistencyProvider : ILogViewAdaptorFactory, IAsyncDisposable, IDisposable
{
    private readonly JournalContext _context;
    private readonly IPostgresJournalSettings _settings;
    private readonly PgStore? _ownedStore;
    private int _disposed;

    internal PostgresLogConsistencyProvider(
        string name, PostgresStoreOptions options, IPostgresJournalSettings settings, PgStore store, bool ownsStore,
        CancellationToken stopping, ILoggerFactory loggerFactory, IServiceProvider services)
    {
        _settings = settings;
        _ownedStore = ownsStore ? store : null;
        var json = StoredJsonOptions.Create(options.JsonSerializerOptions, options.StrictReads, options.TolerantReadTypes);
        _context = new JournalContext(
            name,
            store.Journal,
            store.Reads,
            new JournalEventSerializer(new EventTypeNames(settings.TypeNames), json, settings.Upcasters),
            new JournalSnapshot(
                services.GetRequiredService<Serializer>(),
                services.GetRequiredService<SerializerSessionPool>(),
                services.GetRequiredService<TypeConverter>(),
                json),
            settings.ReadRetryTimeout,
            settings.WriteRetryTimeout,
            stopping,
            loggerFactory.CreateLogger<PostgresLogConsistencyProvider>());
    }

    /// <summary>The provider's name.</summary>
    public string Name => _context.ProviderName;

    /// <summary>The journal the provider writes to, e.g. for queries over the grains' events.</summary>
    public JournalStore Journal => _context.Journal;

    /// <summary>How event types are named in the journal.</summary>
    public EventTypeNames TypeNames => _context.Events.TypeNames;

    /// <summary>Reads and writes events as the grains do (names, JSON contract, upcasters); use it for queries.</summary>
    public JournalEventSerializer Events => _context.Events;

    /// <inheritdoc/>
    public bool UsesStorageProvider => false;

    /// <inheritdoc/>
    public ILogViewAdaptor<TLogView, TLogEntry> MakeLogViewAdaptor<TLogView, TLogEntry>(
        ILogViewAdaptorHost<TLogView, TLogEntry> hostGrain,
        TLogView initialState,
        string grainTypeName,
        IGrainStorage? grainStorage,
        ILogConsistencyProtocolServices services)
        where TLogView : class, new()
        where TLogEntry : class
    {
        ArgumentNullException.ThrowIfNull(services);
        var grainId = services.GrainId;
        var interval = _settings.SnapshotIntervals.TryGetValue(grainId.Type.ToString()!, out var byType)
            ? byType
            : _settings.SnapshotIntervals.TryGetValue(grainTypeName, out var byClass) ? byClass : _settings.SnapshotInterval;
        return new PostgresLogViewAdaptor<TLogView, TLogEntry>(
            hostGrain, initialState, services, _context, JournalStreamNames.For(grainId, _settings.StreamPrefix), interval);
    }

    /// <summary>Disposes the connection pool when the provider created it from a connection string.</summary>
    public async ValueTask DisposeAsync()
    {
        // The container may hand this instance out under several keys and dispose it once per key.
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _ownedStore is not null)
        {
            await _ownedStore.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the connection pool when the provider created it from a connection string.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ownedStore?.Dispose();
        }
    }
}
