using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

/// <summary>
/// The event journal: one row per event in a PostgreSQL table, per-stream optimistic concurrency, snapshots,
/// truncation, and a global feed that reads forward without ever skipping an event.
/// </summary>
/// <remarks>
/// Thread-safe; create one per table and share it. Every call takes a pooled connection for its duration only.
/// Calls validate their input before any I/O and fail with an <see cref="ArgumentException"/> naming what was
/// wrong; database failures surface as <see cref="Errors.OrleansPgStoreException"/> subtypes naming the operation.
/// </remarks>
public sealed partial class JournalStore : IAsyncDisposable
{
    /// <summary>Name of snapshot rows.</summary>
    public const string SnapshotName = "$snapshot";

    /// <summary>Name of the row a full truncation without a snapshot leaves behind.</summary>
    public const string TombstoneName = "$tombstone";

    private readonly StoreConnection _store;
    private readonly JournalSql _sql;
    private readonly JournalSql _sqlAtZeroOffset;
    private readonly string _positionsTable;
    private readonly JournalStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a journal over the table named in <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options are incomplete or name an invalid schema or table.</exception>
    internal JournalStore(JournalStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<JournalStoreOptions>.ThrowIfInvalid(options);
        if (options.PageSize <= 0)
        {
            throw new ArgumentException($"JournalStoreOptions.PageSize must be positive (was {options.PageSize}).", nameof(options));
        }

        if (options.FeedSettleTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException($"JournalStoreOptions.FeedSettleTimeout must not be negative (was {options.FeedSettleTimeout}).", nameof(options));
        }

        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Journal");
        _store = new StoreConnection(options, _logger, loggerFactory);
        _positionsTable = JournalSchema.PositionsTable(_store.QuotedSchema, _store.Table);
        _sql = new JournalSql(_store.QualifiedTable, _positionsTable);
        _sqlAtZeroOffset = new JournalSql(_store.QualifiedTable, _positionsTable, offsetIsZero: true);
    }

    /// <summary>The schema-qualified, quoted events table.</summary>
    public string QualifiedTable => _store.QualifiedTable;

    /// <summary>
    /// Creates the schema (if missing), the events table and its indexes. Idempotent and safe to call from many
    /// processes at once: seeds serialize on advisory locks on the schema, then the table. Then checks the table's
    /// positions against the server (see <see cref="RebasePositionsAsync"/>): after a restore into another cluster it
    /// logs the error that writes will meet, so it shows at start-up.
    /// </summary>
    internal async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        await SchemaInstaller.SeedAsync(_store, JournalSchema.Create(_store.QuotedSchema, _store.Table), cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsurePositionsAsync("Seed", null, cancellationToken).ConfigureAwait(false);
        }
        catch (Errors.PositionsRegressedException)
        {
            // Logged; every write refuses by name until the positions are rebased. Seeding itself succeeded.
        }
    }

    /// <summary>
    /// The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand (the role the store then runs
    /// as needs USAGE on the schema, SELECT, INSERT, DELETE and UPDATE (data, created) on the table (saving a
    /// snapshot replaces an existing one in place) and SELECT on its positions table, <c>&lt;table&gt;_positions</c>;
    /// rebasing positions after a restore needs UPDATE on that one).
    /// </summary>
    internal static string SchemaSql(string schema = "public", string table = "events")
    {
        var quotedSchema = SqlIdentifier.Quote(schema, nameof(schema));
        return $"CREATE SCHEMA IF NOT EXISTS {quotedSchema};\n{JournalSchema.Create(quotedSchema, table)}\n";
    }

    /// <summary>
    /// Drops the events table with all its events (and its positions table). The schema is dropped too, but only when it is not
    /// <c>public</c> and nothing else is left in it: a schema other stores or the application use always survives.
    /// </summary>
    internal Task DropAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.DropAsync(_store, cancellationToken, _positionsTable);

    /// <summary>Translates <paramref name="e"/> for <paramref name="what"/> and records it on the operation's span.</summary>
    private Exception Failed(ref Diagnostics.StoreOperation operation, string what, Exception e)
    {
        var translated = _store.Translate(what, e);
        operation.Failed(translated);
        return translated;
    }

    /// <summary>Disposes the data source if the store created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
