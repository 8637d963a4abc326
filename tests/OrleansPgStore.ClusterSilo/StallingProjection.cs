using OrleansPgStore.Store;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace OrleansPgStore.ClusterSilo;

/// <summary>
/// The read model: a transactional projection writing one row per event into <c>model</c>, stamped with the silo. The
/// first silo to get the <see cref="StallEvent"/> records itself in <c>stall</c> and then holds the event's lease until
/// it is killed, so the test knows a silo that holds a lease when it dies; every later attempt projects it normally.
/// </summary>
public static class StallingProjection
{
    public const string Event = "Happened";

    public const string StallEvent = "Stall";

    public static void Register(PostgresReactionOptions reactions, TestTables tables, string silo)
        => reactions.Project([Event, StallEvent], async (batch, services, ct) =>
        {
            var events = batch.Events.ToList();
            if (events.Any(e => e.Name == StallEvent))
            {
                // Recorded outside the worker's transaction, so it survives the kill.
                var dataSource = services.GetRequiredKeyedService<PgStore>("Postgres").DataSource;
                await using var claim = dataSource.CreateCommand($"INSERT INTO {tables.Stall} (target, silo) VALUES ('stall', $1) ON CONFLICT DO NOTHING");
                claim.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo });
                if (await claim.ExecuteNonQueryAsync(ct) == 1)
                {
                    Console.Error.WriteLine($"{silo}: holding the lease of the stall event until killed");
                    await Task.Delay(Timeout.Infinite, ct);
                }
            }

            // One statement per cycle, in the worker's transaction; no unique key, so a duplicate would show.
            await using var insert = batch.CreateCommand(
                $"INSERT INTO {tables.Model} (position, stream, silo) SELECT p, s, $3 FROM unnest($1::bigint[], $2::text[]) AS u(p, s)");
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo });
            await insert.ExecuteNonQueryAsync(ct);
        });
}
