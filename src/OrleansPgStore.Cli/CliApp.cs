using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using OrleansPgStore.Cli.Commands;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Cli;

/// <summary>The <c>orleanspgstore</c> tool: its commands, and running one with given output writers.</summary>
internal static class CliApp
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

    /// <summary>Runs <paramref name="run"/> with a fresh context and maps its failures onto exit codes and messages.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(
        CliIo io, Func<CliContext, CancellationToken, Task<int>> run)
        => async (parse, cancellationToken) =>
        {
            var context = new CliContext(io.Options, parse, io.Output, io.Error);
            try
            {
                return await run(context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Describe(context, e) is { } failure)
            {
                await WriteErrorAsync(context, failure.Message, failure.Code).ConfigureAwait(false);
                return failure.Code;
            }
        };

    /// <summary>The message and exit code for a failure the tool explains; <c>null</c> for a bug (it propagates).</summary>
    private static (string Message, int Code)? Describe(CliContext context, Exception e) => e switch
    {
        CliUsageException or ArgumentException => (e.Message, ExitCodes.Usage),
        CliNotFoundException => (e.Message, ExitCodes.NotFound),
        StoreNotSeededException missing => (
            $"Table {missing.Table} does not exist. Create the tables with 'orleanspgstore schema seed', or pass " +
            "--schema (and --events-table, --state-table, --subscriptions-table) if they live elsewhere.",
            ExitCodes.Failed),
        _ when Unreachable(context, e) is { } message => (message, ExitCodes.Failed),
        OrleansPgStoreException or NpgsqlException => (e.Message, ExitCodes.Failed),
        _ => null,
    };

    /// <summary>Says which host could not be reached and why, when the failure is the network's.</summary>
    private static string? Unreachable(CliContext context, Exception e)
    {
        var socket = Inner<SocketException>(e);
        if (socket is null)
        {
            return null;
        }

        var server = "the server";
        try
        {
            var builder = CliConnectionString.Parse(context.ConnectionString);
            server = $"host '{builder.Host}' (port {builder.Port})";
        }
        catch (CliUsageException)
        {
        }

        return socket.SocketErrorCode switch
        {
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData =>
                $"Cannot connect: {server} is not known to DNS. Check the connection string's Host.",
            SocketError.ConnectionRefused =>
                $"Cannot connect: {server} refused the connection. Is PostgreSQL running and listening there?",
            SocketError.TimedOut => $"Cannot connect: {server} did not answer in time.",
            _ => $"Cannot connect to {server}: {socket.Message}",
        };
    }

    private static T? Inner<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Errors go to the error writer: plain text, or with <c>--json</c> an object scripts can read.</summary>
    private static Task WriteErrorAsync(CliContext context, string message, int code)
        => context.Json
            ? context.Error.WriteLineAsync(JsonSerializer.Serialize(new { error = message, code }))
            : context.Error.WriteLineAsync(message);
}
