using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>
/// A projection's read model for tests: one row per projected event, with no key, so a duplicate effect shows up as
/// a second row instead of being absorbed by a conflict clause.
/// </summary>
public sealed class ReadModel(NpgsqlDataSource dataSource, string schema, string table)
{
    public string Table { get; } = $"\"{schema}\".\"{table}\"";

    public static async Task<ReadModel> CreateAsync(NpgsqlDataSource dataSource, string schema, string table)
    {
        var model = new ReadModel(dataSource, schema, table);
        await using var command = dataSource.CreateCommand(
            $"CREATE TABLE {model.Table} (position bigint NOT NULL, stream text NOT NULL, version bigint NOT NULL, holder text NOT NULL)");
        await command.ExecuteNonQueryAsync();
        return model;
    }

    /// <summary>The projection: one INSERT per batch over arrays, in the worker's transaction.</summary>
    public Func<ProjectionBatch, CancellationToken, Task> Apply(string holder) => async (batch, ct) =>
    {
        var events = batch.Events.ToList();
        await using var command = batch.CreateCommand($"""
            INSERT INTO {Table} (position, stream, version, holder)
            SELECT p, s, v, $4 FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(p, s, v)
            """);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = holder });
        await command.ExecuteNonQueryAsync(ct);
    };

    /// <summary>The per-event projection: one INSERT per event, in the worker's transaction.</summary>
    public Func<RecordedEvent, ProjectionTransaction, CancellationToken, Task> ApplyEach(string holder) => async (e, transaction, ct) =>
    {
        await using var command = transaction.CreateCommand($"INSERT INTO {Table} (position, stream, version, holder) VALUES ($1, $2, $3, $4)");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Version });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = holder });
        await command.ExecuteNonQueryAsync(ct);
    };

    /// <summary>The per-event projection queueing its INSERT: the worker sends the cycle's queue in one round trip.</summary>
    public Func<RecordedEvent, ProjectionTransaction, CancellationToken, Task> QueueEach(string holder) => (e, transaction, _) =>
    {
        var insert = transaction.Queue($"INSERT INTO {Table} (position, stream, version, holder) VALUES ($1, $2, $3, $4)");
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Version });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = holder });
        return Task.CompletedTask;
    };

    /// <summary>The reset hook: empties the read model.</summary>
    public async Task ClearAsync(ProjectionTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = transaction.CreateCommand($"DELETE FROM {Table}");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> CountAsync(string where = "true")
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {Table} WHERE {where}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The projected positions, duplicates included, in order.</summary>
    public async Task<List<long>> PositionsAsync()
    {
        await using var command = dataSource.CreateCommand($"SELECT position FROM {Table} ORDER BY position");
        await using var reader = await command.ExecuteReaderAsync();
        var positions = new List<long>();
        while (await reader.ReadAsync())
        {
            positions.Add(reader.GetInt64(0));
        }

        return positions;
    }

    /// <summary>Every event exactly once: the same positions, no duplicates.</summary>
    public async Task AssertExactlyOnceAsync(IEnumerable<RecordedEvent> expected)
        => Assert.Equal(expected.Select(e => e.Position).Order(), await PositionsAsync());
}
