using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

// JournaledGrains of every key kind: their stream is the text form of their GrainId.

public interface IKeyedLog
{
    Task Add(int by);

    Task<(int Value, int Version)> Get();
}

public interface IGuidKeyLogGrain : IGrainWithGuidKey, IKeyedLog;

public interface IIntCompoundLogGrain : IGrainWithIntegerCompoundKey, IKeyedLog;

public interface IGuidCompoundLogGrain : IGrainWithGuidCompoundKey, IKeyedLog;

public interface IStringKeyLogGrain : IGrainWithStringKey, IKeyedLog;

public interface IIntKeyLogGrain : IGrainWithIntegerKey, IKeyedLog;

public abstract class KeyedLogGrain : JournaledGrain<CounterState, Incremented>, IKeyedLog
{
    public async Task Add(int by)
    {
        RaiseEvent(new Incremented(by));
        await ConfirmEvents();
    }

    public Task<(int Value, int Version)> Get() => Task.FromResult((State.Value, Version));
}

[GrainType("guid-log")]
public sealed class GuidKeyLogGrain : KeyedLogGrain, IGuidKeyLogGrain;

[GrainType("int-log")]
public sealed class IntKeyLogGrain : KeyedLogGrain, IIntKeyLogGrain;

[GrainType("int-compound-log")]
public sealed class IntCompoundLogGrain : KeyedLogGrain, IIntCompoundLogGrain;

[GrainType("guid-compound-log")]
public sealed class GuidCompoundLogGrain : KeyedLogGrain, IGuidCompoundLogGrain;

/// <summary>No [GrainType]: its grain type is derived from the class name.</summary>
public sealed class StringKeyLogGrain : KeyedLogGrain, IStringKeyLogGrain;
