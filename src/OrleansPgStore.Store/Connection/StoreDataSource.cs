using Microsoft.Extensions.Logging;
using Npgsql;

namespace OrleansPgStore.Store.Connection;

/// <summary>Builds the data sources the stores create for themselves.</summary>
internal static class StoreDataSource
{
    /// <summary>
    /// A data source for <paramref name="connectionString"/> named <c>OrleansPgStore</c> (Npgsql tags its metrics with
    /// the name), whose driver logs (connections, errors, notices) go to <paramref name="loggerFactory"/>.
    /// </summary>
    /// <param name="connectionString">The server to connect to.</param>
    /// <param name="loggerFactory">Where Npgsql logs; nowhere when <c>null</c>.</param>
    /// <param name="prepareConnection">Runs on every physical connection the pool opens asynchronously, before anyone
    /// uses it: e.g. the stores' <c>PrepareConnectionAsync</c>, so a connection opened by a burst of writers is ready
    /// for the next activation. It must not throw.</param>
    public static NpgsqlDataSource Create(
        string connectionString, ILoggerFactory? loggerFactory = null, Func<NpgsqlConnection, Task>? prepareConnection = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = "OrleansPgStore" };
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        if (prepareConnection is not null)
        {
            // The engine opens connections asynchronously only; a synchronous open is simply not prepared.
            builder.UsePhysicalConnectionInitializer(static _ => { }, prepareConnection);
        }

        return builder.Build();
    }
}
