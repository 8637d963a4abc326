using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansPgStore.Health;

/// <summary>Thresholds of the journal's health check.</summary>
public sealed class PostgresJournalHealthCheckOptions
{
    /// <summary>Reactions further behind than this (the age of their oldest unhandled event) report <see cref="LagStatus"/>. Defaults to 5 minutes.</summary>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>What lag above <see cref="MaxLag"/> reports. Defaults to <see cref="HealthStatus.Degraded"/>.</summary>
    public HealthStatus LagStatus { get; set; } = HealthStatus.Degraded;

    /// <summary>What blocked reaction targets report: they need a person. Defaults to <see cref="HealthStatus.Degraded"/>.</summary>
    public HealthStatus BlockedStatus { get; set; } = HealthStatus.Degraded;

    /// <summary>
    /// What a disconnected LISTEN connection reports: reactions still find every commit by polling, only later.
    /// Defaults to <see cref="HealthStatus.Degraded"/>.
    /// </summary>
    public HealthStatus ListenerDownStatus { get; set; } = HealthStatus.Degraded;
}
