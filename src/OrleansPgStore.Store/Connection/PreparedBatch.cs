using Npgsql;

namespace OrleansPgStore.Store.Connection;

/// <summary>A batch prepared on a pooled connection it holds: its statements run in one round trip and one transaction.</summary>
internal sealed class PreparedBatch(NpgsqlConnection connection, NpgsqlBatch batch) : IAsyncDisposable
{
    public NpgsqlBatch Batch { get; } = batch;

    public async ValueTask DisposeAsync()
    {
        await Batch.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
