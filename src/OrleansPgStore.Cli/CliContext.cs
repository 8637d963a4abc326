using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansPgStore.Store.Admin;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using Spectre.Console;

namespace OrleansPgStore.Cli;

/// <summary>One invocation: the parsed common options, the console to print to, and the engine's stores.</summary>
internal sealed class CliContext(CliOptions options, ParseResult parse, TextWriter output, TextWriter error)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string Schema => parse.GetValue(options.Schema)!;

    public string EventsTable => parse.GetValue(options.EventsTable)!;

    public string StateTable => parse.GetValue(options.StateTable)!;

    public string SubscriptionsTable => parse.GetValue(options.SubscriptionsTable)!;

    public bool Json => parse.GetValue(options.Json);

    public ParseResult Parse => parse;

    public TextWriter Error => error;

    /// <summary>Tables and progress go here: plain text unless the output is a terminal.</summary>
    public IAnsiConsole Console { get; } = CreateConsole(output);

    public string ConnectionString
    {
        get
        {
            var connectionString = parse.GetValue(options.Connection)
                ?? Environment.GetEnvironmentVariable(CliOptions.ConnectionVariable)
                ?? throw new CliUsageException($"No connection string: pass --connection or set {CliOptions.ConnectionVariable}.");
            CliConnectionString.Parse(connectionString);
            return connectionString;
        }
    }

    public StoreAdmin Admin() => new(new StoreAdminOptions
    {
        ConnectionString = ConnectionString,
        Schema = Schema,
        Table = EventsTable,
        StateTable = StateTable,
        SubscriptionsTable = SubscriptionsTable,
    });

    public JournalStore Journal() => new(new JournalStoreOptions { ConnectionString = ConnectionString, Schema = Schema, Table = EventsTable });

    public DurableStateStore States() => new(new DurableStateStoreOptions { ConnectionString = ConnectionString, Schema = Schema, Table = StateTable });

    public LeaseStore Leases() => new(new LeaseStoreOptions
    {
        ConnectionString = ConnectionString,
        Schema = Schema,
        Table = SubscriptionsTable,
        // Operator actions always commit durably.
        SynchronousCommit = true,
    });

    public void WriteJson<T>(T value) => output.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!terminal)
        {
            console.Profile.Width = 200;
        }

        return console;
    }
}
