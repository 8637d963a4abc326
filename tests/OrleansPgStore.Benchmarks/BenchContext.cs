using Npgsql;

namespace OrleansPgStore.Benchmarks;

/// <summary>What every scenario shares: one server and pool, one schema for the run, the duration and the report.</summary>
public sealed record BenchContext(NpgsqlDataSource DataSource, string Schema, TimeSpan Duration, Report Report)
{
    /// <summary>The connection string of <see cref="DataSource"/>, for peers that build their own (Marten).</summary>
    public string ConnectionString { get; init; } = "";

    public const string Payload = """{"amount":42,"currency":"EUR","note":"benchmark payload"}""";

    public async Task ExecAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
