namespace OrleansPgStore.Tests.Grains;

public interface IReminderProbeGrain : IGrainWithStringKey
{
    /// <summary>Registers a reminder that ticks every <paramref name="period"/>.</summary>
    Task Start(TimeSpan period);

    /// <summary>The ticks received by this activation, and the silo it runs on.</summary>
    Task<(int Ticks, string Silo)> Ticks();
}

/// <summary>Counts the ticks of its reminder (in memory: the reminder table is what is under test).</summary>
[GrainType("reminder-probe")]
public sealed class ReminderProbeGrain(ILocalSiloDetails silo) : Grain, IReminderProbeGrain, IRemindable
{
    private int _ticks;

    public Task Start(TimeSpan period) => this.RegisterOrUpdateReminder("probe", period, period);

    public Task<(int Ticks, string Silo)> Ticks() => Task.FromResult((_ticks, silo.SiloAddress.ToString()));

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _ticks++;
        return Task.CompletedTask;
    }
}
