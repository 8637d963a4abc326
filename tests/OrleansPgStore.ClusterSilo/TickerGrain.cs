using OrleansPgStore.Store;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Placement;
using OrleansPgStore.Hosting;

namespace OrleansPgStore.ClusterSilo;

public interface ITickerGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);
}

/// <summary>
/// A grain with a reminder that writes one row per tick into <c>ticks</c>, naming the silo it ran on: the test reads
/// there which silo delivered each reminder tick. Placed where it is first called, so each silo starts its own.
/// </summary>
[PreferLocalPlacement]
public sealed class TickerGrain(ILocalSiloDetails silo, TestTables tables, [FromKeyedServices("Postgres")] PgStore journal)
    : Grain, ITickerGrain, IRemindable
{
    public const string ReminderName = "tick";

    public async Task Start(TimeSpan period) => await this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await using var insert = journal.DataSource.CreateCommand($"INSERT INTO {tables.Ticks} (grain, silo) VALUES ($1, $2)");
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = this.GetPrimaryKeyString() });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Name });
        await insert.ExecuteNonQueryAsync();
    }
}
