using System.CommandLine;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Cli.Commands;

/// <summary>The exact filters of the <c>targets</c> commands, read into the engine's <see cref="SubscriptionFilter"/>.</summary>
internal sealed class TargetFilterOptions
{
    private readonly Option<string[]> _streams = new("--stream")
    {
        Description = "Only this target stream (exact name; repeat for several).",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string?> _source = new("--source") { Description = "Only targets fed by this source stream (exact)." };

    private readonly Option<string?> _lane = new("--lane") { Description = "Only targets in this lane (exact; \"\" is the default lane)." };

    private readonly Option<bool?> _blocked = new("--blocked") { Description = "Only blocked (true) or unblocked (false) targets." };

    public void AddTo(Command command)
    {
        command.Add(_streams);
        command.Add(_source);
        command.Add(_lane);
        command.Add(_blocked);
    }

    public SubscriptionFilter Read(ParseResult parse)
    {
        var streams = parse.GetValue(_streams);
        return new SubscriptionFilter
        {
            Streams = streams is { Length: > 0 } ? streams : null,
            Source = parse.GetValue(_source),
            Lane = parse.GetValue(_lane),
            Blocked = parse.GetValue(_blocked),
        };
    }
}
