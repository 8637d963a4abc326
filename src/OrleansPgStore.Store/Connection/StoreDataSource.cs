using Microsoft.Extensions.Logging;
using Npgsql;

namespace OrleansPgStore.Store.Connection;

/// <summary>Builds the data sources the stores create for themselves.</summary>
public static class StoreDataSource
{
    /// <summary>
    /// A data source for <paramref name="connectionString"/> named <c>OrleansPgStore</c> (Npgsql tags its metrics with
    /// the name), whose driver logs (connections, errors, notices) go to <paramref name="loggerFactory"/>.
    /// </summary>
    public static NpgsqlDataSource Create(string connectionString, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = "OrleansPgStore" };
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();
    }
}
