using Npgsql;

namespace OrleansPgStore.Store.Connection;

/// <summary>A command prepared on a pooled connection it holds; disposing returns the connection to the pool.</summary>
internal sealed class PreparedCommand(NpgsqlConnection connection, NpgsqlCommand command) : IAsyncDisposable
{
    public NpgsqlCommand Command { get; } = command;

    public async ValueTask DisposeAsync()
    {
        await Command.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
