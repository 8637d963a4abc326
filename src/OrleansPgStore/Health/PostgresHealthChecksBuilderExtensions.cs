using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansPgStore.Health;
using OrleansPgStore.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the health check of an <c>AddPostgresJournal</c> registration.</summary>
public static class PostgresHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the health check of the journal registered as <paramref name="name"/>: unhealthy when the database does not
    /// answer or a table is missing; degraded (by default) when this silo's LISTEN connection is down, a reaction
    /// target is blocked, or reactions are further behind than <see cref="PostgresJournalHealthCheckOptions.MaxLag"/>.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The provider name given to <c>AddPostgresJournal</c>. Defaults to <c>Postgres</c>.</param>
    /// <param name="configure">Thresholds and the statuses they report.</param>
    /// <param name="tags">Tags for filtering health check endpoints.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddPostgresJournal(
        this IHealthChecksBuilder builder,
        string name = PostgresJournalOptions.DefaultName,
        Action<PostgresJournalHealthCheckOptions>? configure = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var options = new PostgresJournalHealthCheckOptions();
        configure?.Invoke(options);
        return builder.Add(new HealthCheckRegistration(
            $"postgres-journal-{name}",
            sp => new PostgresJournalHealthCheck(name, sp, options),
            failureStatus: HealthStatus.Unhealthy,
            tags: tags ?? ["postgres", "orleans"]));
    }
}
