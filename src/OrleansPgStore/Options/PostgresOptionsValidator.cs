using Npgsql;
using Orleans;
using Orleans.Runtime;
using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Options;

/// <summary>
/// Checks a provider's options when the silo starts; the failure lists every wrong or missing setting by name
/// (never its value: the connection string may hold a password).
/// </summary>
internal sealed class PostgresOptionsValidator : IConfigurationValidator
{
    private readonly PostgresStoreOptions _options;
    private readonly string _provider;

    /// <param name="options">The options to check.</param>
    /// <param name="provider">Names the provider in the message, e.g. <c>PostgreSQL journal 'Postgres'</c>.</param>
    public PostgresOptionsValidator(PostgresStoreOptions options, string provider)
    {
        _options = options;
        _provider = provider;
    }

    public void ValidateConfiguration()
    {
        var failures = Check(_options);
        if (failures.Count > 0)
        {
            throw new OrleansConfigurationException($"{_provider} is misconfigured: {string.Join(" ", failures)}");
        }
    }

    public static List<string> Check(PostgresStoreOptions options)
    {
        var type = options.GetType().Name;
        var failures = new List<string>();

        var hasString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasString && options.DataSource is not null)
        {
            failures.Add($"Set {type}.ConnectionString or {type}.DataSource, not both.");
        }
        else if (!hasString && options.DataSource is null)
        {
            failures.Add($"{type}.ConnectionString (or {type}.DataSource) is required.");
        }
        else if (hasString)
        {
            try
            {
                CheckPool(options, new NpgsqlConnectionStringBuilder(options.ConnectionString), type, failures);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                // Npgsql names the offending keyword, never a value.
                failures.Add($"{type}.ConnectionString is not a valid Npgsql connection string ({e.Message}).");
            }
        }

        Identifier(options.Schema, $"{type}.Schema", failures);
        switch (options)
        {
            case PostgresJournalOptions journal:
                Identifier(journal.EventsTable, $"{type}.EventsTable", failures);
                Identifier(journal.StateTable, $"{type}.StateTable", failures);
                CheckReactions(journal.Reactions, $"{type}.Reactions", failures);
                CheckRetention(journal.Retention, $"{type}.Retention", failures);
                if (journal.WarmReadConnections < 0)
                {
                    failures.Add($"{type}.WarmReadConnections must be 0 (share the main pool) or positive (was {journal.WarmReadConnections}).");
                }

                break;
            case PostgresLogConsistencyOptions log:
                Identifier(log.Table, $"{type}.Table", failures);
                break;
            case PostgresGrainStorageOptions storage:
                Identifier(storage.Table, $"{type}.Table", failures);
                break;
        }

        if (options.CommandTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{type}.CommandTimeout must be positive (was {options.CommandTimeout}).");
        }

        if (options.TolerantReadTypes.Contains(null!))
        {
            failures.Add($"{type}.TolerantReadTypes must not contain null.");
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add($"{type}.JsonSerializerOptions is required.");
        }

        if (options is IPostgresJournalSettings settings)
        {
            CheckJournal(settings, type, failures);
        }

        return failures;
    }

    private static void CheckJournal(IPostgresJournalSettings settings, string type, List<string> failures)
    {
        if (settings.StreamPrefix is null || settings.StreamPrefix.Contains('\0'))
        {
            failures.Add($"{type}.StreamPrefix must be a string without NUL characters (empty for none).");
        }

        if (settings.ReadRetryTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{type}.ReadRetryTimeout must be positive (was {settings.ReadRetryTimeout}).");
        }

        if (settings.WriteRetryTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{type}.WriteRetryTimeout must be positive (was {settings.WriteRetryTimeout}).");
        }

        if (settings.SnapshotInterval < 0)
        {
            failures.Add($"{type}.SnapshotInterval must be 0 (off) or positive (was {settings.SnapshotInterval}).");
        }

        foreach (var (grainType, interval) in settings.SnapshotIntervals)
        {
            if (interval < 0)
            {
                failures.Add($"{type}.SnapshotIntervals['{grainType}'] must be 0 (off) or positive (was {interval}).");
            }
        }

        var owners = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var (eventType, name) in settings.TypeNames)
        {
            if (string.IsNullOrEmpty(name) || name.StartsWith('$') || name.Contains('\0'))
            {
                failures.Add($"{type}.TypeNames[{eventType.FullName}] must be a non-empty name not starting with '$' (was '{name}').");
            }
            else if (!owners.TryAdd(name, eventType))
            {
                failures.Add($"{type}.TypeNames gives the name '{name}' to both {owners[name].FullName} and {eventType.FullName}.");
            }
        }
    }

    /// <summary>Pool sizes that cannot work (pool sizes are no secret: they are named with their values).</summary>
    private static void CheckPool(PostgresStoreOptions options, NpgsqlConnectionStringBuilder connection, string type, List<string> failures)
    {
        if (connection.MinPoolSize > connection.MaxPoolSize)
        {
            failures.Add($"{type}.ConnectionString has Minimum Pool Size {connection.MinPoolSize} above its Maximum Pool Size " +
                $"{connection.MaxPoolSize}: Npgsql cannot open such a pool.");
        }

        // The LISTEN connection that wakes the reaction workers holds a connection of the main pool for good.
        if (options is PostgresJournalOptions { Reactions: { HasReactions: true, NotifyOnCommit: true, Workers: > 0 } }
            && connection.Pooling && connection.MaxPoolSize < 2)
        {
            failures.Add($"{type}.ConnectionString has Maximum Pool Size {connection.MaxPoolSize}, but {type}.Reactions.NotifyOnCommit keeps " +
                "one connection listening for good: raise Maximum Pool Size to at least 2, or turn NotifyOnCommit off.");
        }
    }

    private static void CheckReactions(PostgresReactionOptions reactions, string prefix, List<string> failures)
    {
        Identifier(reactions.SubscriptionsTable, $"{prefix}.SubscriptionsTable", failures);
        if (reactions.Workers < 0)
        {
            failures.Add($"{prefix}.Workers must not be negative (was {reactions.Workers}).");
        }

        if (reactions.ReminderPeriod < TimeSpan.FromMinutes(1))
        {
            failures.Add($"{prefix}.ReminderPeriod must be at least 1 minute, Orleans' smallest reminder period (was {reactions.ReminderPeriod}).");
        }

        if (reactions.LagSampleInterval <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.LagSampleInterval must be positive (was {reactions.LagSampleInterval}).");
        }

        if (reactions.WorkerCheckInterval <= TimeSpan.Zero && reactions.WorkerCheckInterval != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{prefix}.WorkerCheckInterval must be positive, or Timeout.InfiniteTimeSpan for no checks after start (was {reactions.WorkerCheckInterval}).");
        }

        if (reactions.Worker is null)
        {
            failures.Add($"{prefix}.Worker is required.");
            return;
        }

        if (reactions.HasReactions && reactions.Worker.Lane is { Length: > 0 } lane && !reactions.Lanes.Contains(lane))
        {
            failures.Add($"{prefix}.Worker.Lane is '{lane}', a lane no reaction registers in: workers run for each lane a reaction " +
                "names (the lane: argument of On, OnBatch, Project and ProjectEach), so leave Worker.Lane empty.");
        }

        try
        {
            reactions.Worker.Validate();
        }
        catch (ArgumentException e)
        {
            failures.Add($"{prefix}.Worker: {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    private static void CheckRetention(PostgresRetentionOptions retention, string prefix, List<string> failures)
    {
        if (retention.KeepFor <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.KeepFor must be positive, or null to turn retention off (was {retention.KeepFor}).");
        }

        if (retention.Interval <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.Interval must be positive (was {retention.Interval}).");
        }

        if (retention.BatchSize <= 0)
        {
            failures.Add($"{prefix}.BatchSize must be positive (was {retention.BatchSize}).");
        }
    }

    private static void Identifier(string? value, string setting, List<string> failures)
    {
        try
        {
            SqlIdentifier.Validate(value, setting);
        }
        catch (ArgumentException e)
        {
            failures.Add(e.Message.Split(" (Parameter", 2)[0]);
        }
    }
}
