using Orleans.TestingHost;
using OrleansPgStore.Options;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Support;

/// <summary>Builds in-process clusters whose silos persist through <c>AddPostgresJournal</c>.</summary>
public static class TestClusters
{
    /// <summary>The provider name every test grain uses.</summary>
    public const string Provider = "Postgres";

    /// <summary>The account grain's snapshot interval in the test configuration.</summary>
    public const int AccountSnapshotInterval = 5;

    /// <summary>The name the test configuration registers for <see cref="Incremented"/>.</summary>
    public const string IncrementedName = "counter.incremented";

    /// <summary>
    /// A cluster of <paramref name="silos"/> silos on <paramref name="schema"/>. Clusters built with the same
    /// <paramref name="serviceId"/> share their grain states; journals are shared by schema alone.
    /// </summary>
    public static InProcessTestCluster Build(
        string connectionString,
        string schema,
        short silos = 2,
        string? serviceId = null,
        Action<PostgresJournalOptions>? configure = null,
        Action<ISiloBuilder>? configureSilo = null,
        Action<IClientBuilder>? configureClient = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        if (serviceId is not null)
        {
            builder.Options.ServiceId = serviceId;
        }

        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddPostgresJournal(Provider, options =>
            {
                options.ConnectionString = connectionString;
                options.Schema = schema;
                options.SnapshotIntervals["account"] = AccountSnapshotInterval;
                options.TypeNames[typeof(Incremented)] = IncrementedName;
                configure?.Invoke(options);
            });
            configureSilo?.Invoke(silo);
        });
        if (configureClient is not null)
        {
            builder.ConfigureClient(configureClient);
        }

        return builder.Build();
    }
}
