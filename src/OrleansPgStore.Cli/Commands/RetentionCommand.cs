using System.CommandLine;
using OrleansPgStore.Store.Journal;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary>
/// <c>retention run --before &lt;time&gt;</c>: trims history behind snapshots older than the cutoff, with a progress bar,
/// keeping (and reporting) what subscriptions have not consumed; <c>--dry-run</c> reports without deleting.
/// </summary>
internal static class RetentionCommand
{
    public static Command Create(CliIo io)
    {
        var before = new Option<DateTimeOffset>("--before")
        {
            Description = "Cutoff (ISO 8601): in each stream, history behind the newest snapshot created before it is deleted.",
            Required = true,
        };
        var batch = new Option<int>("--batch-size") { Description = "Snapshots (so at most that many streams) per transaction.", DefaultValueFactory = _ => 100 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be deleted and withheld; delete nothing." };
        var ignoreBlocked = new Option<bool>("--ignore-blocked-targets")
        {
            Description = "Also delete events blocked targets have not consumed (they skip them when unblocked).",
        };
        var run = new Command("run", "Delete events (and older snapshots) covered by snapshots older than --before, except what subscriptions have not consumed.")
        {
            before, batch, dryRun, ignoreBlocked,
        };
        run.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            var size = context.Parse.GetValue(batch);
            if (size <= 0)
            {
                throw new CliUsageException($"--batch-size must be positive (was {size}).");
            }

            var retention = new RetentionRun(context.Parse.GetValue(before))
            {
                BatchSize = size, DryRun = context.Parse.GetValue(dryRun), IgnoreBlockedTargets = context.Parse.GetValue(ignoreBlocked),
            };
            await using var journal = context.Journal();
            RetentionProgress done;
            if (context.Json)
            {
                done = await journal.RunRetentionAsync(retention, progress: null, cancellationToken).ConfigureAwait(false);
                context.WriteJson(new
                {
                    cutoff = retention.Cutoff,
                    done.DryRun,
                    done.StreamsDone,
                    done.RowsDeleted,
                    done.UnconsumedDeleted,
                    done.RowsWithheld,
                    done.StreamsWithheld,
                    done.OldestHolder,
                });
                return ExitCodes.Ok;
            }

            var verb = retention.DryRun ? "Counting" : "Trimming";
            done = await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{verb} streams", autoStart: true, maxValue: 1);
                    var report = new SynchronousProgress(p =>
                    {
                        task.MaxValue = Math.Max(1, p.StreamsTotal);
                        task.Value = p.StreamsTotal == 0 ? 1 : p.StreamsDone;
                        task.Description = $"{verb} streams ({p.StreamsDone}/{p.StreamsTotal}, {p.RowsDeleted} rows)";
                    });
                    return await journal.RunRetentionAsync(retention, report, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            Summarize(context, retention, done);
            return ExitCodes.Ok;
        }));
        return new Command("retention", "Trim old history behind snapshots.") { run };
    }

    private static void Summarize(CliContext context, RetentionRun retention, RetentionProgress done)
    {
        var deleted = done.DryRun ? "Would delete" : "Deleted";
        context.Console.MarkupLineInterpolated(
            $"{deleted} {done.RowsDeleted} row(s) from {done.StreamsDone} stream(s) behind snapshots older than {Format.Time(retention.Cutoff)}.");
        if (done.UnconsumedDeleted > 0)
        {
            context.Console.MarkupLineInterpolated(
                $"[yellow]{deleted} {done.UnconsumedDeleted} event(s) blocked targets have not consumed (--ignore-blocked-targets): they skip them when unblocked.[/]");
        }

        if (done.RowsWithheld > 0 && done.OldestHolder is { } holder)
        {
            var kept = done.DryRun ? "Would keep" : "Kept";
            context.Console.MarkupLineInterpolated(
                $"[yellow]{kept} {done.RowsWithheld} event(s) in {done.StreamsWithheld} stream(s) that subscriptions have not consumed; oldest holder: {holder.Subscription} in {holder.Table} at position {holder.Watermark}{(holder.Blocked ? " (blocked)" : "")}.[/]");
        }
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<RetentionProgress> report) : IProgress<RetentionProgress>
    {
        public void Report(RetentionProgress value) => report(value);
    }
}
