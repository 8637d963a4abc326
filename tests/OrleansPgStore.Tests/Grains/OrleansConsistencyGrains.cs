using Orleans.EventSourcing;
using Orleans.Providers;
using OrleansPgStore.Tests.Support;

namespace OrleansPgStore.Tests.Grains;

[GenerateSerializer]
public sealed record Counted([property: Id(0)] int By, [property: Id(1)] string Note);

[GenerateSerializer]
public sealed class CountedView
{
    [Id(0)] public int Total { get; set; }
    [Id(1)] public List<string> Notes { get; set; } = [];

    public void Apply(Counted e)
    {
        Total += e.By;
        Notes.Add(e.Note);
    }
}

public interface IOrleansProviderGrain : IGrainWithStringKey
{
    Task Add(int by, string note);

    Task<(int Total, int Version, string[] Notes)> Get();
}

/// <summary>Orleans' own StateStorage log-consistency provider, storing its view through this plugin's grain storage.</summary>
[LogConsistencyProvider(ProviderName = OrleansConsistencyProviders.StateStorage)]
[StorageProvider(ProviderName = TestClusters.Provider)]
public sealed class StateStorageCountGrain : JournaledGrain<CountedView, Counted>, IOrleansProviderGrain, IStateStorageCountGrain
{
    public async Task Add(int by, string note)
    {
        RaiseEvent(new Counted(by, note));
        await ConfirmEvents();
    }

    public Task<(int Total, int Version, string[] Notes)> Get() => Task.FromResult((State.Total, Version, State.Notes.ToArray()));
}

/// <summary>Orleans' own LogStorage log-consistency provider: the whole log as one grain state of this plugin's storage.</summary>
[LogConsistencyProvider(ProviderName = OrleansConsistencyProviders.LogStorage)]
[StorageProvider(ProviderName = TestClusters.Provider)]
public sealed class LogStorageCountGrain : JournaledGrain<CountedView, Counted>, IOrleansProviderGrain, ILogStorageCountGrain
{
    public async Task Add(int by, string note)
    {
        RaiseEvent(new Counted(by, note));
        await ConfirmEvents();
    }

    public Task<(int Total, int Version, string[] Notes)> Get() => Task.FromResult((State.Total, Version, State.Notes.ToArray()));
}

public interface IStateStorageCountGrain : IOrleansProviderGrain;

public interface ILogStorageCountGrain : IOrleansProviderGrain;

/// <summary>The names Orleans' built-in log-consistency providers are registered under in these tests.</summary>
public static class OrleansConsistencyProviders
{
    public const string StateStorage = "StateStorage";
    public const string LogStorage = "LogStorage";
}
