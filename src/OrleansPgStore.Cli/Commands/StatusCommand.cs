using System.CommandLine;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary><c>status</c>: tables, sizes, event counts, reaction lag per lane, blocked targets with their errors.</summary>
internal static class StatusCommand
{
    public static Command Create(CliIo io)
    {
        var blockedLimit = new Option<int>("--blocked-limit") { Description = "How many blocked targets to list.", DefaultValueFactory = _ => 20 };
        var command = new Command("status", "Tables, sizes, event counts, reaction lag and blocked targets. Exit code 3 when tables are missing or targets are blocked.")
        {
            blockedLimit,
        };
        command.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            await using var admin = context.Admin();
            var status = await admin.StatusAsync(context.Parse.GetValue(blockedLimit), cancellationToken).ConfigureAwait(false);
            var attention = !status.Seeded || status.Lanes.Any(l => l.Blocked > 0);
            if (context.Json)
            {
                context.WriteJson(status);
                return attention ? ExitCodes.Attention : ExitCodes.Ok;
            }

            var console = context.Console;
            console.MarkupLineInterpolated($"Database [bold]{status.Database}[/], schema [bold]{context.Schema}[/]");
            var tables = new Table().AddColumns("Table", "Exists", "Size", "Rows");
            foreach (var t in status.Tables)
            {
                tables.AddRow(Markup.Escape(t.Name), t.Exists ? "yes" : "[red]missing[/]", Format.Bytes(t.SizeBytes), t.Rows.ToString("N0", Format.Culture));
            }

            console.Write(tables);
            if (!status.Seeded)
            {
                console.MarkupLineInterpolated(
                    $"[yellow]Tables are missing in schema {context.Schema}.[/] Create them with 'orleanspgstore schema seed', or pass --schema if they live in another schema.");
            }

            console.MarkupLineInterpolated($"Events: {status.Events.ToString("N0", Format.Culture)}, snapshots: {status.Snapshots.ToString("N0", Format.Culture)}");
            if (status.Lanes.Count > 0)
            {
                var lanes = new Table().AddColumns("Lane", "Targets", "Lagging", "Blocked", "Events behind", "Oldest unhandled");
                foreach (var l in status.Lanes)
                {
                    lanes.AddRow(
                        l.Lane.Length == 0 ? "(default)" : Markup.Escape(l.Lane),
                        l.Targets.ToString("N0", Format.Culture),
                        l.Lagging.ToString("N0", Format.Culture),
                        l.Blocked > 0 ? $"[red]{l.Blocked:N0}[/]" : "0",
                        l.EventsBehind.ToString("N0", Format.Culture),
                        l.TimeBehind == TimeSpan.Zero ? "-" : Format.Duration(l.TimeBehind));
                }

                console.Write(lanes);
            }

            if (status.Blocked.Count > 0)
            {
                var blocked = new Table().AddColumns("Blocked target", "Lane", "Attempts", "Error");
                foreach (var b in status.Blocked)
                {
                    blocked.AddRow(Markup.Escape(b.Stream), Markup.Escape(b.Lane), b.Retry.ToString(Format.Culture), Markup.Escape(Format.Shorten(b.Error ?? "", 120)));
                }

                console.Write(blocked);
            }

            return attention ? ExitCodes.Attention : ExitCodes.Ok;
        }));
        return command;
    }
}
