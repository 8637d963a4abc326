using Npgsql;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>
/// Holds inserts mid-flight: a BEFORE INSERT trigger makes rows matching a condition wait on an advisory lock the
/// gate holds, so a test can inject a fault while the writer's transaction is open, deterministically.
/// </summary>
/// <remarks>
/// The held transaction has a transaction id, which holds back the settled feed of every class sharing the server:
/// keep holds short (to make a writer wait for long, lock its table instead; that takes no transaction id).
/// </remarks>
public sealed class CommitGate : IAsyncDisposable
{
    private readonly PostgresTestSchema _schema;
    private readonly NpgsqlConnection _holder;
    private bool _open;

    private CommitGate(PostgresTestSchema schema, NpgsqlConnection holder, long key)
    {
        _schema = schema;
        _holder = holder;
        Key = key;
    }

    /// <summary>The advisory lock key (unique per gate: the server is shared by classes running in parallel).</summary>
    public long Key { get; }

    /// <param name="schema">The schema holding the table.</param>
    /// <param name="table">The table whose inserts are held.</param>
    /// <param name="condition">SQL over <c>NEW</c> selecting the rows to hold, e.g. <c>NEW.version = 2</c>.</param>
    public static async Task<CommitGate> CloseAsync(PostgresTestSchema schema, string table, string condition)
    {
        var key = Random.Shared.NextInt64(1_000_000, int.MaxValue);
        var function = $"\"{schema.Name}\".gate_{key}";
        await schema.ExecuteAsync($"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {condition} THEN
                    PERFORM pg_advisory_lock({key});
                    PERFORM pg_advisory_unlock({key});
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER gate_{key} BEFORE INSERT ON "{schema.Name}"."{table}" FOR EACH ROW EXECUTE FUNCTION {function}();
            """);
        var holder = await schema.DataSource.OpenConnectionAsync();
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_lock({key})", holder))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new CommitGate(schema, holder, key);
    }

    /// <summary>Waits until a writer is held at the gate and returns its server process id.</summary>
    public async Task<int> WaitForHeldWriterAsync()
    {
        var pid = 0;
        await Eventually.WaitAsync(async () =>
        {
            pid = await _schema.ScalarAsync<int>(
                $"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {Key} AND NOT granted LIMIT 1");
            return pid != 0;
        }, $"a writer waits at gate {Key}");
        return pid;
    }

    /// <summary>Lets held and later writers through.</summary>
    public async Task OpenAsync()
    {
        if (_open)
        {
            return;
        }

        _open = true;
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_unlock({Key})", _holder);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Unlock explicitly: a pooled connection keeps session locks until it is reused.
        await OpenAsync();
        await _holder.DisposeAsync();
    }
}
