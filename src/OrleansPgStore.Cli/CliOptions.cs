using System.CommandLine;

namespace OrleansPgStore.Cli;

/// <summary>The options every command takes: where the store is, and how to print.</summary>
internal sealed class CliOptions
{
    /// <summary>Read when <c>--connection</c> is not given.</summary>
    public const string ConnectionVariable = "ORLEANSPGSTORE_CONNECTION";

    public readonly Option<string?> Connection = new("--connection", "-c")
    {
        Description = $"Npgsql connection string (default: the {ConnectionVariable} environment variable).",
        Recursive = true,
    };

    public readonly Option<string> Schema = new("--schema")
    {
        Description = "Schema of the tables.",
        DefaultValueFactory = _ => "public",
        Recursive = true,
    };

    public readonly Option<string> EventsTable = new("--events-table")
    {
        Description = "The events table.",
        DefaultValueFactory = _ => "events",
        Recursive = true,
    };

    public readonly Option<string> StateTable = new("--state-table")
    {
        Description = "The durable-state table.",
        DefaultValueFactory = _ => "durable_state",
        Recursive = true,
    };

    public readonly Option<string> SubscriptionsTable = new("--subscriptions-table")
    {
        Description = "The subscriptions table of reactions.",
        DefaultValueFactory = _ => "subscriptions",
        Recursive = true,
    };

    public readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of tables.",
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        root.Add(Connection);
        root.Add(Schema);
        root.Add(EventsTable);
        root.Add(StateTable);
        root.Add(SubscriptionsTable);
        root.Add(Json);
    }
}
