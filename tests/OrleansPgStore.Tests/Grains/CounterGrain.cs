using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

/// <summary>Named by the name registered in the options' TypeNames.</summary>
[GenerateSerializer]
public sealed record Incremented([property: Id(0)] int By);

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }

    public void Apply(Incremented e) => Value += e.By;
}

public interface ICounterGrain : IGrainWithIntegerKey
{
    Task Increment(int by);

    Task<(int Value, int Version)> Get();
}

/// <summary>
/// A JournaledGrain without [LogConsistencyProvider] (so it finds the provider as Default), with events of any type
/// (TEventBase = object) applied through the default dynamic Apply.
/// </summary>
[GrainType("counter")]
public sealed class CounterGrain : JournaledGrain<CounterState>, ICounterGrain
{
    public async Task Increment(int by)
    {
        RaiseEvent(new Incremented(by));
        await ConfirmEvents();
    }

    public Task<(int Value, int Version)> Get() => Task.FromResult((State.Value, Version));
}
