using System.CommandLine;
using Spectre.Console;

namespace OrleansPgStore.Cli.Commands;

/// <summary><c>stream show &lt;stream&gt;</c>: a stream's events in version order, with their metadata.</summary>
internal static class StreamCommand
{
    public static Command Create(CliIo io)
    {
        var stream = new Argument<string>("stream") { Description = "The stream's exact name, e.g. account/alice." };
        var from = new Option<long>("--from-version") { Description = "First version to show.", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = "At most this many events.", DefaultValueFactory = _ => 100 };
        var show = new Command("show", "Show a stream's events (version, position, name, time, correlation, causation, payload).") { stream, from, limit };
        show.SetAction(CliApp.Action(io, async (context, cancellationToken) =>
        {
            var name = context.Parse.GetValue(stream)!;
            var max = context.Parse.GetValue(limit);
            if (max <= 0)
            {
                throw new CliUsageException($"--limit must be positive (was {max}).");
            }

            await using var journal = context.Journal();
            var version = await journal.CurrentVersionAsync(name, cancellationToken).ConfigureAwait(false);
            var events = new List<Store.Journal.RecordedEvent>();
            await foreach (var e in journal.ReadStreamAsync(name, context.Parse.GetValue(from), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                events.Add(e);
                if (events.Count == max)
                {
                    break;
                }
            }

            if (version < 0)
            {
                throw new CliNotFoundException($"Stream '{name}' not found in {context.Schema}.{context.EventsTable}: it has no events.");
            }

            if (context.Json)
            {
                context.WriteJson(new
                {
                    stream = name,
                    version,
                    events = events.Select(e => new
                    {
                        e.Version, e.Position, e.Name, e.Created, e.Id, e.Metadata.CorrelationId, e.Metadata.Causation,
                        data = System.Text.Json.JsonDocument.Parse(e.Json).RootElement,
                    }),
                });
                return ExitCodes.Ok;
            }

            context.Console.MarkupLineInterpolated($"Stream [bold]{name}[/]: version {version}, showing {events.Count} event(s)");
            var table = new Table().AddColumns("Version", "Position", "Name", "Created (UTC)", "Correlation", "Causation", "Data");
            foreach (var e in events)
            {
                var causation = e.Metadata.Causation;
                table.AddRow(
                    e.Version.ToString(Format.Culture),
                    e.Position.ToString(Format.Culture),
                    Markup.Escape(e.Name),
                    Format.Time(e.Created),
                    Markup.Escape(e.Metadata.CorrelationId ?? "-"),
                    Markup.Escape(causation is null ? "-" : causation.Command ?? (causation.EventPosition is { } p ? $"event {p}" : "-")),
                    Markup.Escape(Format.Shorten(e.Json, 80)));
            }

            context.Console.Write(table);
            return ExitCodes.Ok;
        }));
        return new Command("stream", "Inspect streams.") { show };
    }
}
