using Orleans.EventSourcing;
using Orleans.Providers;

namespace OrleansPgStore.Plugin.Benchmarks;

[GenerateSerializer, Alias("bench.deposited")]
public sealed record BenchDeposited([property: Id(0)] long Amount);

[GenerateSerializer]
public sealed class BenchAccountState
{
    [Id(0)]
    public long Balance { get; set; }

    public void Apply(BenchDeposited e) => Balance += e.Amount;
}

public interface IBenchAccountGrain : IGrainWithStringKey
{
    Task Deposit(long amount);

    Task<long> Balance();
}

[GrainType("bench-account")]
[LogConsistencyProvider(ProviderName = "Postgres")]
public sealed class BenchAccountGrain : JournaledGrain<BenchAccountState, BenchDeposited>, IBenchAccountGrain
{
    public async Task Deposit(long amount)
    {
        RaiseEvent(new BenchDeposited(amount));
        await ConfirmEvents();
    }

    public Task<long> Balance() => Task.FromResult(State.Balance);
}

[GenerateSerializer]
public sealed class BenchProfile
{
    [Id(0)]
    public long Visits { get; set; }

    [Id(1)]
    public string Note { get; set; } = "";
}

public interface IBenchProfileGrain : IGrainWithStringKey
{
    Task Visit(string note);
}

[GrainType("bench-profile")]
public sealed class BenchProfileGrain([PersistentState("profile", "Postgres")] IPersistentState<BenchProfile> profile) : Grain, IBenchProfileGrain
{
    public async Task Visit(string note)
    {
        profile.State.Visits++;
        profile.State.Note = note;
        await profile.WriteStateAsync();
    }
}
