using System.CommandLine;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary>
/// <c>positions rebase</c>: after the database was restored into another cluster (pg_dump/pg_restore, a logical move),
/// raises the events table's position offset so new events land above every stored one (the journal refuses appends
/// until then).
/// </summary>
internal static class PositionsCommand
{
    public static Command Create(CliIo io)
    {
        var rebase = new Command(
            "rebase",
            "After a restore into another cluster: make new events' positions continue above every stored one. Idempotent; a no-op when nothing regressed.");
        rebase.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            await using var journal = context.Journal();
            var done = await journal.RebasePositionsAsync(cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(new { done.PreviousOffset, done.Offset, done.Changed });
                return ExitCodes.Ok;
            }

            context.Console.WriteLine(done.Changed
                ? $"Rebased the positions of {journal.QualifiedTable}: offset {done.PreviousOffset} -> {done.Offset}. New events land above every stored position."
                : $"The positions of {journal.QualifiedTable} are sound (offset {done.Offset}); nothing changed.");
            return ExitCodes.Ok;
        }));
        return new Command("positions", "Event positions: repair after a restore.") { rebase };
    }
}
