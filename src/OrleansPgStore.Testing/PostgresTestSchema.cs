using Npgsql;

namespace OrleansPgStore.Testing;

/// <summary>A schema of its own for one test class, so classes run in parallel without seeing each other.</summary>
public sealed class PostgresTestSchema : IAsyncDisposable
{
    private PostgresTestSchema(string connectionString, string name, NpgsqlDataSource dataSource)
    {
        ConnectionString = connectionString;
        Name = name;
        DataSource = dataSource;
    }

    /// <summary>The server's connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>The schema's name (unquoted; a valid identifier).</summary>
    public string Name { get; }

    /// <summary>A data source on the server, for setup and for checks the stores do not offer.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Creates a unique schema named after <paramref name="owner"/>.</summary>
    public static async Task<PostgresTestSchema> CreateAsync(string owner)
    {
        var connectionString = await PostgresTestServer.GetConnectionStringAsync();
        var prefix = new string(owner.ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')).ToArray());
        var name = $"t_{prefix[..Math.Min(prefix.Length, 40)]}_{Guid.NewGuid().ToString("N")[..12]}";
        var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var command = dataSource.CreateCommand($"CREATE SCHEMA \"{name}\""))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new PostgresTestSchema(connectionString, name, dataSource);
    }

    /// <summary>Runs <paramref name="sql"/> and returns the first column of the first row.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>Runs <paramref name="sql"/> without results.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Drops the schema with everything in it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE");
        }
        finally
        {
            await DataSource.DisposeAsync();
        }
    }
}
