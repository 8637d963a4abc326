using System.Globalization;
using Microsoft.Extensions.Logging;
using Orleans;
using OrleansPgStore.Store.Reminders;

namespace OrleansPgStore.Reminders;

/// <summary>
/// Orleans' reminder table on PostgreSQL: the reminders of one service id, found by grain or by a range of the
/// grain-hash ring the reminder service owns.
/// </summary>
/// <remarks>
/// Every upsert gives the row a fresh ETag (never reused, even after the reminder was removed and registered again);
/// <see cref="RemoveRow(GrainId, string, string, CancellationToken)"/> deletes only under the ETag the caller read.
/// Grain ids are stored as text; one whose text does not parse back to the same id is refused.
/// </remarks>
internal sealed partial class PostgresReminderTable : IReminderTable, IAsyncDisposable
{
    private readonly ReminderStore _store;
    private readonly string _serviceId;
    private readonly bool _seed;
    private readonly ILogger _logger;

    /// <param name="store">The reminders table.</param>
    /// <param name="serviceId">The service whose reminders this table serves.</param>
    /// <param name="seed">Whether starting creates the table.</param>
    /// <param name="logger">Where to log.</param>
    public PostgresReminderTable(ReminderStore store, string serviceId, bool seed, ILogger<PostgresReminderTable> logger)
    {
        _store = store;
        _serviceId = serviceId;
        _seed = seed;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_seed)
        {
            await _store.SeedAsync(cancellationToken).ConfigureAwait(false);
            LogReady(_logger, _store.QualifiedTable, _serviceId);
        }
    }

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public async Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken)
        => ToData(await _store.ReadGrainAsync(_serviceId, GrainText(grainId), cancellationToken).ConfigureAwait(false));

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    public async Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken)
        => ToData(await _store.ReadRangeAsync(_serviceId, begin, end, cancellationToken).ConfigureAwait(false));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var row = await _store.ReadAsync(_serviceId, GrainText(grainId), reminderName, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToEntry(row);
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var etag = await _store.UpsertAsync(
            _serviceId, GrainText(entry.GrainId), entry.ReminderName, entry.GrainId.GetUniformHashCode(), entry.StartAt, entry.Period,
            cancellationToken).ConfigureAwait(false);
        return Etag(etag);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        // An ETag this table never handed out matches no row.
        if (!long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var etag))
        {
            return false;
        }

        return await _store.DeleteAsync(_serviceId, GrainText(grainId), reminderName, etag, cancellationToken).ConfigureAwait(false);
    }

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public Task TestOnlyClearTable(CancellationToken cancellationToken) => _store.DeleteServiceAsync(_serviceId, cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private static string GrainText(GrainId grainId)
    {
        if (grainId.IsDefault)
        {
            throw new ArgumentException("A reminder needs a grain id; the default GrainId was given.", nameof(grainId));
        }

        var text = grainId.ToString();
        if (!GrainId.TryParse(text, null, out var parsed) || !parsed.Equals(grainId))
        {
            throw new ArgumentException(
                $"The grain id '{text}' does not survive its text form (it parses back to another id), so its reminders cannot be stored faithfully.",
                nameof(grainId));
        }

        return text;
    }

    private static ReminderTableData ToData(IReadOnlyList<ReminderRow> rows) => new(rows.Select(ToEntry));

    private static ReminderEntry ToEntry(ReminderRow row) => new()
    {
        GrainId = GrainId.Parse(row.GrainId),
        ReminderName = row.Name,
        StartAt = row.StartAt,
        Period = row.Period,
        ETag = Etag(row.Etag),
    };

    private static string Etag(long etag) => etag.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reminders of service {ServiceId} are kept in {Table}")]
    private static partial void LogReady(ILogger logger, string table, string serviceId);
}
