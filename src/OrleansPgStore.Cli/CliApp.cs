using System.CommandLine;
using OrleansPgStore.Cli.Commands;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Cli;

/// <summary>The <c>orleanspgstore</c> tool: its commands, and running one with given output writers.</summary>
public static class CliApp
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns its exit code (see <see cref="ExitCodes"/>).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = new RootCommand("Inspect and operate an OrleansPgStore database.");
        var options = new CliOptions();
        options.AddTo(root);
        var io = new CliIo(options, output, error);
        root.Add(StatusCommand.Create(io));
        root.Add(TargetsCommand.Create(io));
        root.Add(StreamCommand.Create(io));
        root.Add(RetentionCommand.Create(io));
        root.Add(SchemaCommand.Create(io));
        root.Add(PositionsCommand.Create(io));
        return root.Parse(args).InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
            cancellationToken);
    }

    /// <summary>Runs <paramref name="run"/> with a fresh context and maps its failures onto exit codes.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(
        CliIo io, Func<CliContext, CancellationToken, Task<int>> run)
        => async (parse, cancellationToken) =>
        {
            var error = io.Error;
            try
            {
                return await run(new CliContext(io.Options, parse, io.Output, error), cancellationToken).ConfigureAwait(false);
            }
            catch (CliUsageException e)
            {
                await error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (ArgumentException e)
            {
                await error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (OrleansPgStoreException e)
            {
                await error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return ExitCodes.Failed;
            }
        };
}
