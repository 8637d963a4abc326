using System.CommandLine;
using OrleansPgStore.Store.Leasing;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary>
/// <c>targets list | unblock | reset | defer | prioritize</c>: reaction targets selected by exact filters (a stream name
/// is an equality test, never a pattern). Changing commands need a filter or <c>--all</c>, and <c>--dry-run</c> lists
/// what they would change without changing it.
/// </summary>
internal static class TargetsCommand
{
    private const int PageSize = 500;

    public static Command Create(CliIo io)
    {
        var command = new Command("targets", "List and operate reaction targets (subscriptions).");
        var filter = new TargetFilterOptions();

        var limit = new Option<int>("--limit") { Description = "At most this many targets.", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "List targets matching the filters, by stream name.") { limit };
        filter.AddTo(list);
        list.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            await using var leases = context.Leases();
            var targets = await SelectAsync(leases, filter.Read(context.Parse), context.Parse.GetValue(limit), cancellationToken).ConfigureAwait(false);
            Print(context, targets);
            return ExitCodes.Ok;
        }));
        command.Add(list);

        command.Add(Change(io, "unblock", "Unblock blocked targets: claimable again from their watermark, with fresh attempts.",
            extra: [], narrow: f => new SubscriptionFilter { Streams = f.Streams, Source = f.Source, Lane = f.Lane, Blocked = true }, changes: (_, _) => true,
            (leases, f, _, ct) => leases.UnblockAsync(f, ct)));
        command.Add(Change(io, "reset", "Replay targets from the start (unblocks and releases them).",
            extra: [], narrow: f => f, changes: (_, _) => true,
            (leases, f, _, ct) => leases.ResetAsync(f, ct)));

        var until = new Option<DateTimeOffset?>("--until") { Description = "Hide the targets from claims until this time (ISO 8601)." };
        var @for = new Option<TimeSpan?>("--for") { Description = "Hide the targets from claims for this long (e.g. 00:10:00)." };
        var clear = new Option<bool>("--clear") { Description = "Clear a deferral." };
        command.Add(Change(io, "defer", "Hide targets from claims for a while (the database's clock).",
            extra: [until, @for, clear], narrow: f => f, changes: (_, _) => true,
            (leases, f, parse, ct) => leases.DeferAsync(f, DeferralTime(parse, until, @for, clear), ct)));

        var priority = new Option<int>("--priority") { Description = "The new priority (higher is claimed first).", Required = true };
        command.Add(Change(io, "prioritize", "Set the priority of targets.",
            extra: [priority], narrow: f => f, changes: (t, parse) => t.Priority != parse.GetValue(priority),
            (leases, f, parse, ct) => leases.PrioritizeAsync(f, parse.GetValue(priority), ct)));
        return command;
    }

    private static Command Change(
        CliIo io,
        string name,
        string description,
        Option[] extra,
        Func<SubscriptionFilter, SubscriptionFilter> narrow,
        Func<SubscriptionState, ParseResult, bool> changes,
        Func<LeaseStore, SubscriptionFilter, ParseResult, CancellationToken, Task<int>> apply)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would change; change nothing." };
        var all = new Option<bool>("--all") { Description = "Select every target (required when no filter is given)." };
        var command = new Command(name, description) { dryRun, all };
        var filter = new TargetFilterOptions();
        filter.AddTo(command);
        foreach (var option in extra)
        {
            command.Add(option);
        }

        command.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            var selected = filter.Read(context.Parse);
            if (selected is { Streams: null, Source: null, Blocked: null, Lane: null } && !context.Parse.GetValue(all))
            {
                throw new CliUsageException($"'targets {name}' without a filter would change every target: give a filter or --all.");
            }

            await using var leases = context.Leases();
            if (context.Parse.GetValue(dryRun))
            {
                var would = (await SelectAsync(leases, narrow(selected), int.MaxValue, cancellationToken).ConfigureAwait(false))
                    .Where(t => changes(t, context.Parse)).ToList();
                if (context.Json)
                {
                    context.WriteJson(new { dryRun = true, command = name, count = would.Count, targets = would });
                }
                else
                {
                    context.Console.MarkupLineInterpolated($"Dry run: '{name}' would change {would.Count} target(s).");
                    Print(context, would);
                }

                return ExitCodes.Ok;
            }

            var changed = await apply(leases, selected, context.Parse, cancellationToken).ConfigureAwait(false);
            if (context.Json)
            {
                context.WriteJson(new { dryRun = false, command = name, count = changed });
            }
            else
            {
                context.Console.MarkupLineInterpolated($"'{name}' changed {changed} target(s).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static DateTimeOffset? DeferralTime(ParseResult parse, Option<DateTimeOffset?> until, Option<TimeSpan?> @for, Option<bool> clear)
    {
        var given = new[] { parse.GetValue(until) is not null, parse.GetValue(@for) is not null, parse.GetValue(clear) }.Count(g => g);
        if (given != 1)
        {
            throw new CliUsageException("'targets defer' needs exactly one of --until, --for or --clear.");
        }

        return parse.GetValue(clear) ? null : parse.GetValue(until) ?? DateTimeOffset.UtcNow + parse.GetValue(@for)!.Value;
    }

    private static async Task<List<SubscriptionState>> SelectAsync(LeaseStore leases, SubscriptionFilter filter, int limit, CancellationToken cancellationToken)
    {
        var targets = new List<SubscriptionState>();
        string? after = null;
        while (targets.Count < limit)
        {
            var want = Math.Min(PageSize, limit - targets.Count);
            var page = await leases.QueryStreamsAsync(filter, after, want, cancellationToken).ConfigureAwait(false);
            targets.AddRange(page);
            if (page.Count < want)
            {
                break;
            }

            after = page[^1].Stream;
        }

        return targets;
    }

    private static void Print(CliContext context, IReadOnlyList<SubscriptionState> targets)
    {
        if (context.Json)
        {
            context.WriteJson(targets);
            return;
        }

        var table = new Table().AddColumns("Target", "Source", "Lane", "Priority", "Watermark", "Work", "Attempts", "Blocked", "Deferred until", "Error");
        foreach (var t in targets)
        {
            table.AddRow(
                Markup.Escape(t.Stream),
                Markup.Escape(t.Source ?? "(all)"),
                Markup.Escape(t.Lane),
                t.Priority.ToString(Format.Culture),
                t.At.ToString(Format.Culture),
                t.Work.ToString(Format.Culture),
                Math.Max(0, t.Retry).ToString(Format.Culture),
                t.Blocked ? "[red]yes[/]" : "no",
                Format.Time(t.Due),
                Markup.Escape(Format.Shorten(t.Error ?? "", 80)));
        }

        context.Console.Write(table);
        context.Console.MarkupLineInterpolated($"{targets.Count} target(s).");
    }
}
