using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

public interface IShapeLogGrain<T> : IGrainWithStringKey
{
    /// <summary>Raises <paramref name="e"/> and confirms it.</summary>
    Task Raise(T e);

    /// <summary>The confirmed events, read from the journal.</summary>
    Task<List<T>> Events();

    /// <summary>How many events the state has applied since activation's load.</summary>
    Task<int> Count();
}

/// <summary>A JournaledGrain whose events are shapes of the shape corpus (structs too: the event base is object).</summary>
public sealed class ShapeLogGrain<T> : JournaledGrain<ShapeLog, object>, IShapeLogGrain<T>
    where T : notnull
{
    public async Task Raise(T e)
    {
        RaiseEvent(e);
        await ConfirmEvents();
    }

    public async Task<List<T>> Events() => [.. (await RetrieveConfirmedEvents(0, Version)).Cast<T>()];

    public Task<int> Count() => Task.FromResult(State.Count);
}

/// <summary>Counts events of any type.</summary>
[GenerateSerializer]
public sealed class ShapeLog
{
    [Id(0)] public int Count { get; set; }

    public void Apply(object e) => Count++;
}

public interface IShapeStateGrain<T> : IGrainWithStringKey
{
    Task Write(T state);

    Task<T> Read();

    Task<bool> Exists();
}

/// <summary>A [PersistentState] grain whose state type is any shape of the shape corpus.</summary>
public sealed class ShapeStateGrain<T>([PersistentState("shape", Support.TestClusters.Provider)] IPersistentState<T> state)
    : Grain, IShapeStateGrain<T>
{
    public Task Write(T value)
    {
        state.State = value;
        return state.WriteStateAsync();
    }

    public Task<T> Read() => Task.FromResult(state.State);

    public Task<bool> Exists() => Task.FromResult(state.RecordExists);
}
