using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansPgStore.Options;
using OrleansPgStore.Reactions;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Health;

/// <summary>
/// The health of one <c>AddPostgresJournal</c> registration on this silo: database reachable and tables present
/// (else unhealthy), and with reactions: this silo's LISTEN connection up, no blocked target, lag under the threshold.
/// </summary>
internal sealed class PostgresJournalHealthCheck(string name, IServiceProvider services, PostgresJournalHealthCheckOptions options) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var journal = services.GetRequiredKeyedService<PgStore>(name);
        var reactions = services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<PostgresJournalOptions>>().Get(name).Reactions;
        var data = new Dictionary<string, object>();
        try
        {
            await journal.Admin.PingAsync(cancellationToken).ConfigureAwait(false);
            var tables = await journal.Admin.TablesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var needed = reactions.HasReactions ? tables : tables.Take(2);
            var missing = needed.Where(t => !t.Exists).Select(t => t.Name).ToList();
            if (missing.Count > 0)
            {
                data["missing_tables"] = missing;
                return HealthCheckResult.Unhealthy($"Tables missing: {string.Join(", ", missing)} (seeding off or failed).", data: data);
            }

            if (!reactions.HasReactions)
            {
                return HealthCheckResult.Healthy("Database reachable, tables present.", data);
            }

            var problems = new List<(HealthStatus Status, string Text)>();
            var listener = services.GetRequiredKeyedService<PostgresReactions>(name).ListenerConnected;
            if (listener is { } connected)
            {
                data["listener_connected"] = connected;
                if (!connected)
                {
                    problems.Add((options.ListenerDownStatus, "the LISTEN connection is down (reactions only poll)"));
                }
            }

            var lanes = await journal.Admin.ReactionLagAsync(cancellationToken).ConfigureAwait(false);
            var blocked = lanes.Sum(l => l.Blocked);
            var lag = lanes.Count == 0 ? TimeSpan.Zero : lanes.Max(l => l.TimeBehind);
            data["blocked_targets"] = blocked;
            data["lag_seconds"] = Math.Round(lag.TotalSeconds, 1);
            data["events_behind"] = lanes.Sum(l => l.EventsBehind);
            if (blocked > 0)
            {
                problems.Add((options.BlockedStatus, $"{blocked} reaction target(s) blocked"));
            }

            if (lag > options.MaxLag)
            {
                problems.Add((options.LagStatus, $"reactions are {Durations.Format(lag)} behind (more than {Durations.Format(options.MaxLag)})"));
            }

            return problems.Count == 0
                ? HealthCheckResult.Healthy("Database reachable, tables present, reactions keeping up.", data)
                : new HealthCheckResult(problems.Min(p => p.Status), string.Join("; ", problems.Select(p => p.Text)) + ".", data: data);
        }
        catch (OrleansPgStoreException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Database unreachable: {e.Message}", e, data);
        }
    }
}
