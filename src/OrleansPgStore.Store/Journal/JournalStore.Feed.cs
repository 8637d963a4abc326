using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    /// <summary>
    /// One page of the settled feed across all streams: events with positions after <paramref name="after"/>, oldest
    /// first, at most <paramref name="limit"/>, never past an event that an append to this table still in flight could
    /// precede. Does not wait for such appends (see <see cref="FeedPage.HasMore"/>; <see cref="QueryAsync"/> waits).
    /// </summary>
    /// <param name="after">The position to read after: 0 (or -1) from the start, then the previous page's <see cref="FeedPage.ContinueAfter"/>.</param>
    /// <param name="limit">Most events in the page.</param>
    /// <param name="names">Only events with these names; <c>null</c>: every event (snapshots never).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<FeedPage> ReadFeedAsync(
        long after, int limit, IReadOnlyCollection<string>? names = null, CancellationToken cancellationToken = default)
    {
        foreach (var name in names ?? [])
        {
            if (name is null)
            {
                throw new ArgumentException("Feed names contain a null name.", nameof(names));
            }

            InputChecks.Encodable(name, "A name in the feed's names", nameof(names));
        }

        return ReadFeedAsync(after, long.MaxValue, names, limit, cancellationToken);
    }

    /// <summary>
    /// One page of the settled feed across all streams: events named in <paramref name="names"/> (null: any) with
    /// positions in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first, never past an event that a commit
    /// still in flight could precede. Does not wait for such commits.
    /// </summary>
    internal Task<FeedPage> ReadFeedAsync(
        long after, long upTo, IReadOnlyCollection<string>? names, int limit, CancellationToken cancellationToken = default)
        => ReadFeedPageAsync(_sql.ReadFeedRange, fenceColumn: 10, static reader => RecordedEventReader.Read(reader), after, upTo, names, limit, cancellationToken);

    /// <summary>
    /// Like <see cref="ReadFeedAsync(long, long, IReadOnlyCollection{string}?, int, CancellationToken)"/>, with each
    /// event's position, stream, version and name only: its payload is empty, its metadata none, its commit time unset.
    /// What correlation reads when every reaction handles events in their own streams (no resolver looks further).
    /// </summary>
    internal Task<FeedPage> ReadFeedHeadsAsync(
        long after, long upTo, IReadOnlyCollection<string>? names, int limit, CancellationToken cancellationToken = default)
        => ReadFeedPageAsync(_sql.ReadFeedHeads, fenceColumn: 4, static reader => ReadHead(reader), after, upTo, names, limit, cancellationToken);

    /// <summary>
    /// This journal's statements, for a statement of the lease store that reads the settled feed inside its own
    /// (discovery in the database embeds <see cref="JournalSql.SettledHeads"/>, so the fence has one text).
    /// </summary>
    internal JournalSql Sql => _sql;

    private static RecordedEvent ReadHead(NpgsqlDataReader reader)
        => new(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), "", null, EventMetadata.None, default);

    /// <summary>
    /// Runs one of the feed statements: its rows are events (or one row of nulls when none is settled), each carrying the
    /// statement's fence in <paramref name="fenceColumn"/> and whether appends are settling in the column after it.
    /// </summary>
    private async Task<FeedPage> ReadFeedPageAsync(
        string sql, int fenceColumn, Func<NpgsqlDataReader, RecordedEvent> readEvent,
        long after, long upTo, IReadOnlyCollection<string>? names, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var operation = StoreOperation.Start("journal.feed", _store);
        try
        {
            await using var prepared = await _store.PrepareAsync(sql, cancellationToken,
                Bigint(after), Bigint(upTo), Names(names), Int(limit)).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var events = new List<RecordedEvent>();
            var fence = 0L;
            var settling = false;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                fence = reader.GetInt64(fenceColumn);
                settling = reader.GetBoolean(fenceColumn + 1);
                if (!reader.IsDBNull(0))
                {
                    events.Add(readEvent(reader));
                }
            }

            operation.Succeeded();
            return new FeedPage(events, after, upTo, limit, fence, settling);
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Reading the feed", e);
        }
    }

    /// <summary>
    /// Events of one stream named in <paramref name="names"/> with positions in (<paramref name="after"/>,
    /// <paramref name="upTo"/>], oldest first, at most <paramref name="limit"/>: what a reaction target fed by that
    /// stream has to handle next.
    /// </summary>
    internal async Task<IReadOnlyList<RecordedEvent>> ReadStreamRangeAsync(
        string stream, long after, long upTo, IReadOnlyCollection<string> names, int limit, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var operation = StoreOperation.Start("journal.fetch", _store, stream);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.ReadStreamRange, cancellationToken,
                StreamParameter(stream), Bigint(after), Bigint(upTo), Names(names), Int(limit)).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var events = new List<RecordedEvent>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                events.Add(RecordedEventReader.Read(reader));
            }

            operation.Succeeded();
            return events;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, $"Reading stream '{InputChecks.Shorten(stream)}'", e);
        }
    }

    /// <summary>
    /// <see cref="ReadStreamRangeAsync"/> for many streams in one round trip (a reaction worker's claimed targets):
    /// for each range (stream, after, up to), its events in order, at most <paramref name="limit"/> each.
    /// </summary>
    internal async Task<IReadOnlyList<IReadOnlyList<RecordedEvent>>> ReadStreamRangesAsync(
        IReadOnlyList<(string Stream, long After, long UpTo)> ranges, IReadOnlyCollection<string> names, int limit,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var result = ranges.Select(_ => new List<RecordedEvent>()).ToArray();
        if (ranges.Count == 0)
        {
            return result;
        }

        foreach (var range in ranges)
        {
            InputChecks.Stream(range.Stream, nameof(ranges));
        }

        var operation = StoreOperation.Start("journal.fetch", _store);
        operation.Tag("orleanspgstore.stream_count", ranges.Count);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.ReadStreamRanges, cancellationToken,
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = ranges.Select(r => r.Stream).ToArray() },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = ranges.Select(r => r.After).ToArray() },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = ranges.Select(r => r.UpTo).ToArray() },
                Names(names), Int(limit)).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result[reader.GetInt64(0)].Add(RecordedEventReader.Read(reader, offset: 1));
            }

            operation.Succeeded();
            return result;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Reading streams for reactions", e);
        }
    }

    private static NpgsqlParameter Bigint(long value) => new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = value };

    private static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = value };

    private static NpgsqlParameter Names(IReadOnlyCollection<string>? names)
        => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = names is null ? DBNull.Value : names as string[] ?? names.ToArray() };
}
