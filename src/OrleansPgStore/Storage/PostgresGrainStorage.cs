using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Storage;

/// <summary>
/// Grain storage in a PostgreSQL durable-state table: one row per grain state, rewritten in place, its revision
/// guarding against lost updates.
/// </summary>
/// <remarks>
/// <para>The row's key is <see cref="PersistenceIds.For"/> (service id, state name, grain type and key). The state is
/// stored as <c>jsonb</c> with System.Text.Json, so it stays queryable in SQL.</para>
/// <para><b>ETags.</b> The ETag is the row's revision as text (<c>"1"</c> after the first write, +1 per write).
/// A write or clear whose ETag is not the stored revision (a null ETag where a row exists, or a stale one) throws
/// <see cref="InconsistentStateException"/> carrying both ETags, and nothing changes.</para>
/// <para><b>Clear deletes the row.</b> Afterwards <c>ETag</c> is null, <c>RecordExists</c> false and <c>State</c> a
/// new instance; the next write starts again at revision 1. Clearing a state that does not exist succeeds.</para>
/// <para>Reading a missing state gives <c>ETag</c> null, <c>RecordExists</c> false and a new <c>State</c> (never null).</para>
/// </remarks>
internal sealed partial class PostgresGrainStorage : IGrainStorage, IAsyncDisposable, IDisposable
{
    private readonly string _name;
    private readonly string _serviceId;
    private readonly DurableStateStore _store;
    private readonly WarmReads _reads;
    private readonly JsonSerializerOptions _json;
    private readonly IActivatorProvider _activators;
    private readonly PgStore? _ownedStore;
    private readonly ILogger _logger;
    private int _disposed;

    internal PostgresGrainStorage(
        string name, string serviceId, PgStore store, JsonSerializerOptions json,
        IActivatorProvider activators, bool ownsStore, ILogger logger)
    {
        _name = name;
        _serviceId = serviceId;
        _store = store.States;
        _reads = store.Reads;
        _json = json;
        _activators = activators;
        _ownedStore = ownsStore ? store : null;
        _logger = logger;
    }

    /// <summary>The provider's name.</summary>
    public string Name => _name;

    /// <summary>The durable-state store the provider writes to.</summary>
    public DurableStateStore Store => _store;

    /// <inheritdoc/>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var id = PersistenceIds.For(_serviceId, stateName, grainId);
        DurableStateRecord? record;
        try
        {
            record = await _reads.LoadStateAsync(id).ConfigureAwait(false);
        }
        catch (OrleansPgStoreException e)
        {
            throw Failure("ReadState", grainId, e);
        }

        if (record is null)
        {
            grainState.State = CreateState<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }

        grainState.State = Deserialize<T>(record.Json, stateName, grainId) ?? CreateState<T>();
        grainState.ETag = ETag(record.Revision);
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var id = PersistenceIds.For(_serviceId, stateName, grainId);
        var expected = ExpectedRevision(grainState.ETag, "WriteState", grainId);
        var json = Serialize(grainState.State, stateName, grainId);
        long revision;
        try
        {
            revision = await _store.UpsertAsync(id, expected, json).ConfigureAwait(false);
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict("WriteState", grainId, grainState.ETag, e);
        }
        catch (OrleansPgStoreException e)
        {
            throw Failure("WriteState", grainId, e);
        }

        grainState.ETag = ETag(revision);
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var id = PersistenceIds.For(_serviceId, stateName, grainId);
        var expected = ExpectedRevision(grainState.ETag, "ClearState", grainId);
        try
        {
            await _store.DeleteAsync(id, expected).ConfigureAwait(false);
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict("ClearState", grainId, grainState.ETag, e);
        }
        catch (OrleansPgStoreException e)
        {
            throw Failure("ClearState", grainId, e);
        }

        grainState.State = CreateState<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
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

    private T CreateState<T>() => _activators.GetActivator<T>().Create();

    /// <summary>A state type that cannot be stored faithfully is refused, naming grain, state, type and member.</summary>
    private string Serialize<T>(T state, string stateName, GrainId grainId)
    {
        try
        {
            WriteChecks.EnsureRoot(state, typeof(T), _json);
            var json = JsonSerializer.Serialize(state, _json);
            UnpairedSurrogates.EnsureNone(json, state, typeof(T), _json);
            return json;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new OrleansException(
                $"PostgreSQL grain storage '{_name}': state '{stateName}' ({typeof(T)}) of {grainId} cannot be written: {e.Message}");
        }
    }

    /// <summary>Strict: a stored member the type does not know, or a missing required one, fails the read by name.</summary>
    private T? Deserialize<T>(string json, string stateName, GrainId grainId)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, _json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new OrleansException(
                $"PostgreSQL grain storage '{_name}': state '{stateName}' of {grainId} cannot be read as {typeof(T)}: {StoredJsonErrors.Describe(e)}");
        }
    }

    private static string ETag(long revision) => revision.ToString(CultureInfo.InvariantCulture);

    /// <summary>Null ETag: no row is expected (revision 0). Anything that is not a revision cannot match a row.</summary>
    private long ExpectedRevision(string? etag, string operation, GrainId grainId)
    {
        if (etag is null)
        {
            return 0;
        }

        if (long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) && revision > 0)
        {
            return revision;
        }

        throw new InconsistentStateException(Message(operation, grainId, etag) + " The ETag is not a revision of this provider.", storedEtag: null, currentEtag: etag);
    }

    // The exceptions below cross grain boundaries, and Orleans can serialize neither engine nor Npgsql exceptions:
    // an inner one would turn the caller's error into a codec failure. So the message carries what the engine said,
    // and the full exception is logged here.
    private InconsistentStateException Conflict(string operation, GrainId grainId, string? etag, StateConcurrencyException e)
    {
        var stored = e.ActualRevision == 0 ? null : ETag(e.ActualRevision);
        LogConflict(_logger, operation, grainId, etag, stored);
        return new InconsistentStateException($"{Message(operation, grainId, etag)} Stored ETag={stored ?? "(none)"}.", stored, etag);
    }

    private OrleansException Failure(string operation, GrainId grainId, OrleansPgStoreException e)
    {
        LogFailure(_logger, e, operation, grainId);
        return new OrleansException($"PostgreSQL grain storage '{_name}': {operation} of {grainId} failed: {e.Message}");
    }

    private string Message(string operation, GrainId grainId, string? etag)
        => $"Version conflict ({operation}): ServiceId={_serviceId} ProviderName={_name} GrainType={grainId.Type} GrainId={grainId} ETag={etag ?? "(null)"}.";

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} of {GrainId} rejected: ETag {ETag}, stored {StoredETag}")]
    private static partial void LogConflict(ILogger logger, string operation, GrainId grainId, string? etag, string? storedETag);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Operation} of {GrainId} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation, GrainId grainId);
}
