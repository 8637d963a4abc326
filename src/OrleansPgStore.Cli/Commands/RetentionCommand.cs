using System.CommandLine;
using OrleansPgStore.Store.Journal;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary><c>retention run --before &lt;time&gt;</c>: trims history behind snapshots older than the cutoff, with a progress bar.</summary>
internal static class RetentionCommand
{
    public static Command Create(CliIo io)
    {
        var before = new Option<DateTimeOffset>("--before")
        {
            Description = "Cutoff (ISO 8601): in each stream, history behind the newest snapshot created before it is deleted.",
            Required = true,
        };
        var batch = new Option<int>("--batch-size") { Description = "Streams per transaction.", DefaultValueFactory = _ => 100 };
        var run = new Command("run", "Delete events (and older snapshots) covered by snapshots older than --before.") { before, batch };
        run.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            var cutoff = context.Parse.GetValue(before);
            var size = context.Parse.GetValue(batch);
            if (size <= 0)
            {
                throw new CliUsageException($"--batch-size must be positive (was {size}).");
            }

            await using var journal = context.Journal();
            RetentionProgress done;
            if (context.Json)
            {
                done = await journal.RunRetentionAsync(cutoff, size, progress: null, cancellationToken).ConfigureAwait(false);
                context.WriteJson(new { cutoff, done.StreamsDone, done.RowsDeleted });
                return ExitCodes.Ok;
            }

            done = await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("Trimming streams", autoStart: true, maxValue: 1);
                    var report = new SynchronousProgress(p =>
                    {
                        task.MaxValue = Math.Max(1, p.StreamsTotal);
                        task.Value = p.StreamsTotal == 0 ? 1 : p.StreamsDone;
                        task.Description = $"Trimming streams ({p.StreamsDone}/{p.StreamsTotal}, {p.RowsDeleted} rows)";
                    });
                    return await journal.RunRetentionAsync(cutoff, size, report, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            context.Console.MarkupLineInterpolated(
                $"Deleted {done.RowsDeleted} row(s) from {done.StreamsDone} stream(s) behind snapshots older than {Format.Time(cutoff)}.");
            return ExitCodes.Ok;
        }));
        return new Command("retention", "Trim old history behind snapshots.") { run };
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<RetentionProgress> report) : IProgress<RetentionProgress>
    {
        public void Report(RetentionProgress value) => report(value);
    }
}
