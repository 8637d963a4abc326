using System.CommandLine;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Cli.Commands;

/// <summary><c>schema sql | seed</c>: print the DDL the stores apply, or apply it.</summary>
internal static class SchemaCommand
{
    public static Command Create(CliIo io)
    {
        var sql = new Command("sql", "Print the DDL of the tables (for DBAs who create schemas by hand); needs no connection.");
        sql.SetAction(CliApp.Action(io, (context, _) =>
        {
            io.Output.Write(JournalStore.SchemaSql(context.Schema, context.EventsTable));
            io.Output.Write(DurableStateStore.SchemaSql(context.Schema, context.StateTable));
            io.Output.Write(LeaseStore.SchemaSql(context.Schema, context.SubscriptionsTable));
            return Task.FromResult(ExitCodes.Ok);
        }));

        var seed = new Command("seed", "Create the schema and the tables if missing (idempotent; safe while silos run).");
        seed.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            await using (var journal = context.Journal())
            {
                await journal.SeedAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var states = context.States())
            {
                await states.SeedAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var leases = context.Leases())
            {
                await leases.SeedAsync(cancellationToken).ConfigureAwait(false);
            }

            var tables = new[] { context.EventsTable, context.StateTable, context.SubscriptionsTable }.Select(t => $"{context.Schema}.{t}").ToArray();
            if (context.Json)
            {
                context.WriteJson(new { seeded = tables });
            }
            else
            {
                io.Output.WriteLine($"Seeded {string.Join(", ", tables)}.");
            }

            return ExitCodes.Ok;
        }));
        return new Command("schema", "The tables' DDL.") { sql, seed };
    }
}
