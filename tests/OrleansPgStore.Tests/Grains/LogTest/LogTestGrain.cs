using Orleans.EventSourcing;
using Orleans.Providers;

// Ported from dotnet/orleans, tag v10.2.2 (a5758887): test/Grains/TestGrains/LogTestGrain.cs and
// LogTestGrainVariations.cs. Kept as close to the original as our analyzers allow (nullable, no [Serializable]); only
// the variation below, and the Postgres-only additions marked as such, are ours.
namespace OrleansPgStore.Tests.Grains.LogTest;

/// <summary>
/// A class used by many different unit tests for the various log consistency providers.
/// The content of this class is pretty arbitrary and messy;
/// (don't use this as an introduction on how to use JournaledGrain)
/// it started from SimpleGrain, but a lot of stuff got added over time
/// </summary>
[GenerateSerializer]
public class MyGrainState
{
    [Id(0)]
    public int A;
    [Id(1)]
    public int B;
    [Id(2)]
    public Dictionary<string, int> Reservations;

    public MyGrainState()
    {
        Reservations = new Dictionary<string, int>();
    }

    public override string ToString()
    {
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, "A={0} B={1} R={{{2}}}", A, B, string.Join(", ", Reservations.Select(kvp => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}:{1}", kvp.Key, kvp.Value))));
    }

    // all the update operations are listed here
    public void Apply(UpdateA x) { A = x.Val; }
    public void Apply(UpdateB x) { B = x.Val; }
    public void Apply(IncrementA x) { A++; }

    public void Apply(AddReservation x) { Reservations[x.Val.ToString(System.Globalization.CultureInfo.InvariantCulture)] = x.Val; }
    public void Apply(RemoveReservation x) { Reservations.Remove(x.Val.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
}

[GenerateSerializer]
public class UpdateA { [Id(0)] public int Val; }
[GenerateSerializer]
public class UpdateB { [Id(0)] public int Val; }
[GenerateSerializer]
public class IncrementA { [Id(0)] public int Val; }
[GenerateSerializer]
public class AddReservation { [Id(0)] public int Val; }
[GenerateSerializer]
public class RemoveReservation { [Id(0)] public int Val; }

/// <summary>Postgres-only addition: an event <see cref="MyGrainState"/> has no Apply for.</summary>
[GenerateSerializer]
public class UpdateC { [Id(0)] public int Val; }

/// <summary>
/// A grain used for testing log-consistency providers.
/// has two fields A, B that can be updated or incremented;
/// and a dictionary of reservations that can be added and removed
/// We subclass this to create variations for all storage providers
/// </summary>
public abstract class LogTestGrain : JournaledGrain<MyGrainState, object>, ILogTestGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        return Task.CompletedTask; // do not wait for initial load
    }

    public async Task SetAGlobal(int x)
    {
        RaiseEvent(new UpdateA() { Val = x });
        await ConfirmEvents();
    }

    public async Task<Tuple<int, bool>> SetAConditional(int x)
    {
        int version = this.Version;
        bool success = await RaiseConditionalEvent(new UpdateA() { Val = x });
        return new Tuple<int, bool>(version, success);
    }

    public Task SetALocal(int x)
    {
        RaiseEvent(new UpdateA() { Val = x });
        return Task.CompletedTask;
    }
    public async Task SetBGlobal(int x)
    {
        RaiseEvent(new UpdateB() { Val = x });
        await ConfirmEvents();
    }

    public Task SetBLocal(int x)
    {
        RaiseEvent(new UpdateB() { Val = x });
        return Task.CompletedTask;
    }

    public async Task IncrementAGlobal()
    {
        RaiseEvent(new IncrementA());
        await ConfirmEvents();
    }

    public Task IncrementALocal()
    {
        RaiseEvent(new IncrementA());
        return Task.CompletedTask;

    }

    public async Task<int> GetAGlobal()
    {
        await RefreshNow();
        return State.A;
    }

    public Task<int> GetALocal()
    {
        return Task.FromResult(TentativeState.A);
    }

    public async Task<AB> GetBothGlobal()
    {
        await RefreshNow();
        return new AB() { A = State.A, B = State.B };
    }

    public Task<AB> GetBothLocal()
    {
        return Task.FromResult(new AB() { A = TentativeState.A, B = TentativeState.B });
    }

    public Task AddReservationLocal(int val)
    {
        RaiseEvent(new AddReservation() { Val = val });
        return Task.CompletedTask;

    }
    public Task RemoveReservationLocal(int val)
    {
        RaiseEvent(new RemoveReservation() { Val = val });
        return Task.CompletedTask;

    }
    public async Task<int[]> GetReservationsGlobal()
    {
        await RefreshNow();
        return State.Reservations.Values.ToArray();
    }

    public Task SynchronizeGlobalState()
    {
        return RefreshNow();
    }

    public Task<int> GetConfirmedVersion()
    {
        return Task.FromResult(this.Version);
    }

    public async Task<KeyValuePair<int, object>> Read()
    {
        await RefreshNow();
        return new KeyValuePair<int, object>(Version, State);
    }
    public async Task<bool> Update(IReadOnlyList<object> updates, int expectedversion)
    {
        if (expectedversion > Version)
            await RefreshNow();
        if (expectedversion != Version)
            return false;
        return await RaiseConditionalEvents(updates);
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task Clear()
    {
        return ClearLogAsync();
    }

    public Task<IReadOnlyList<object>> GetEventLog()
    {
        return this.RetrieveConfirmedEvents(0, Version);
    }

    /// <summary>Postgres-only addition: raises an event the state has no Apply for, and confirms it.</summary>
    public async Task SetCGlobal(int x)
    {
        RaiseEvent(new UpdateC() { Val = x });
        await ConfirmEvents();
    }
}

/// <summary>The variation on our provider (Orleans has one per built-in provider).</summary>
[LogConsistencyProvider(ProviderName = TestClusters.Provider)]
public class LogTestGrainPostgres : LogTestGrain
{
}
