using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

/// <summary>The shape of Orleans' own CountersGrain: a dictionary of counts, events confirmed lazily.</summary>
[GenerateSerializer]
public sealed class TallyState
{
    [Id(0)]
    public Dictionary<string, int> Counts { get; set; } = [];

    public void Apply(TallyAdded e) => Counts[e.Key] = Counts.GetValueOrDefault(e.Key) + e.Amount;
}

[GenerateSerializer]
public sealed class TallyAdded
{
    [Id(0)]
    public string Key { get; set; } = "";

    [Id(1)]
    public int Amount { get; set; }
}

public interface ITallyGrain : IGrainWithStringKey
{
    /// <summary>Raises an event without waiting for it and returns the tentative count.</summary>
    Task<int> Add(string key, int amount);

    /// <summary>Raises an event without waiting for it and without computing the tentative state.</summary>
    Task Raise(string key, int amount);

    Task Confirm();

    /// <summary>Raises one event per key in one turn (so they queue together), then confirms them.</summary>
    Task RaiseAllAndConfirm(string[] keys);

    Task<int> Tentative(string key);

    Task<(int Count, int Version)> Confirmed(string key);

    /// <summary>Asks Orleans to deactivate the grain once this call returns.</summary>
    Task Deactivate();

    /// <summary>Identifies the activation that answers.</summary>
    Task<Guid> Activation();
}

/// <summary>Snapshots after every event in the test configuration (grain type <c>tally</c>).</summary>
[GrainType("tally")]
public class TallyGrain : JournaledGrain<TallyState, TallyAdded>, ITallyGrain
{
    public Task<int> Add(string key, int amount)
    {
        RaiseEvent(new TallyAdded { Key = key, Amount = amount });
        return Task.FromResult(TentativeState.Counts.GetValueOrDefault(key));
    }

    public Task Raise(string key, int amount)
    {
        RaiseEvent(new TallyAdded { Key = key, Amount = amount });
        return Task.CompletedTask;
    }

    public Task Confirm() => ConfirmEvents();

    public async Task RaiseAllAndConfirm(string[] keys)
    {
        foreach (var key in keys)
        {
            RaiseEvent(new TallyAdded { Key = key, Amount = 1 });
        }

        await ConfirmEvents();
    }

    public Task<int> Tentative(string key) => Task.FromResult(TentativeState.Counts.GetValueOrDefault(key));

    public Task<(int Count, int Version)> Confirmed(string key) => Task.FromResult((State.Counts.GetValueOrDefault(key), Version));

    private readonly Guid _activation = Guid.NewGuid();

    public Task<Guid> Activation() => Task.FromResult(_activation);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>The same grain without snapshots (grain type <c>tally-plain</c>).</summary>
[GrainType("tally-plain")]
public sealed class PlainTallyGrain : TallyGrain, IPlainTallyGrain;

public interface IPlainTallyGrain : ITallyGrain;

/// <summary>
/// Raises an event in <c>OnActivateAsync</c>, before its first load is known to have succeeded (grain type
/// <c>tally-eager</c>).
/// </summary>
[GrainType("tally-eager")]
public sealed class EagerTallyGrain : TallyGrain, IEagerTallyGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RaiseEvent(new TallyAdded { Key = "activated", Amount = 1 });
        return base.OnActivateAsync(cancellationToken);
    }
}

public interface IEagerTallyGrain : ITallyGrain;
