using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace Orleans.Hosting;

/// <summary>The one-line setup: PostgreSQL as the whole app.</summary>
public static class OrleansPgStoreSiloBuilderExtensions
{
    /// <summary>
    /// Makes PostgreSQL the whole app, on one data source: clustering, reminders, and the journal registration of
    /// <c>AddPostgresJournal</c> (JournaledGrains, grain storage, reactions) under
    /// <see cref="PostgresJournalOptions.DefaultName"/>.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further journal settings; clustering and reminders follow its schema, command timeout and
    /// <see cref="PostgresStoreOptions.SeedSchema"/>.</param>
    /// <returns>The silo builder.</returns>
    /// <remarks>
    /// Equivalent to <c>AddPostgresJournal</c>, <c>UsePostgresClustering</c> and <c>UsePostgresReminderService</c> with
    /// the clustering and reminder providers on the journal's data source (one connection pool). Clients connect with
    /// <see cref="PostgresClusteringExtensions.UsePostgresClustering(IClientBuilder, Action{PostgresClusteringOptions})"/> and the same connection
    /// string and schema.
    /// </remarks>
    public static ISiloBuilder UseOrleansPgStore(this ISiloBuilder builder, string connectionString, Action<PostgresJournalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        const string journal = PostgresJournalOptions.DefaultName;
        builder.AddPostgresJournal(journal, options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
        builder.UsePostgresClustering(options => options.Configure<IServiceProvider>(
            (clustering, services) => PostgresClusterServices.ShareJournal(clustering, services, journal)));
        builder.UsePostgresReminderService(options => options.Configure<IServiceProvider>(
            (reminders, services) => PostgresClusterServices.ShareJournal(reminders, services, journal)));
        return builder;
    }
}
