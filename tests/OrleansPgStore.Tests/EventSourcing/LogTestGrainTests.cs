using OrleansPgStore.Tests.Grains.LogTest;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// Orleans' own log-consistency checks, run on our provider: the sequences of <c>BasicLogTestGrainTests</c> (dotnet/orleans
/// tag v10.2.2, test/Orleans.Runtime.Internal.Tests/GeoClusterTests/BasicLogTestGrainTests.cs) and of
/// <c>LogTestGrainClearTests</c> (test/Orleans.EventSourcing.Tests/EventSourcingTests/LogTestGrainClearTests.cs), on the
/// <see cref="LogTestGrain"/> port: state with public fields and Apply methods, <c>JournaledGrain&lt;MyGrainState, object&gt;</c>,
/// and an <c>OnActivateAsync</c> that does not wait for the first load.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LogTestGrainTests(ClusterFixture fixture)
{
    private const string GrainClass = "OrleansPgStore.Tests.Grains.LogTest.LogTestGrainPostgres";

    private ILogTestGrain Grain(long key) => fixture.Client.GetGrain<ILogTestGrain>(key, GrainClass);

    private static long NewKey() => Random.Shared.NextInt64(1, long.MaxValue);

    // Orleans' checker1: global.
    private async Task Global()
    {
        var x = Random.Shared.Next();
        var grain = Grain(NewKey());
        await grain.SetAGlobal(x);
        var a = await grain.GetAGlobal();
        Assert.Equal(x, a); // value of A survive grain call
        Assert.Equal(1, await grain.GetConfirmedVersion());
    }

    // Orleans' checker2: local.
    private async Task Local()
    {
        var x = Random.Shared.Next();
        var grain = Grain(NewKey());
        Assert.Equal(0, await grain.GetConfirmedVersion());
        await grain.SetALocal(x);
        var a = await grain.GetALocal();
        Assert.Equal(x, a); // value of A survive grain call
    }

    // Orleans' checker3: local then global.
    private async Task LocalThenGlobal()
    {
        var x = Random.Shared.Next();
        var grain = Grain(NewKey());
        await grain.SetALocal(x);
        var a = await grain.GetAGlobal();
        Assert.Equal(x, a);
        Assert.Equal(1, await grain.GetConfirmedVersion());
    }

    [Fact]
    public async Task Local_then_global_on_a_fresh_grain_applies_the_event_to_the_confirmed_state()
        => await LocalThenGlobal();

    [Fact]
    public async Task Orleans_three_checkers_in_sequence_then_in_parallel()
    {
        // ThreeCheckers with 100 phases in Orleans; 20 here, on a 2-core test machine.
        await Global();
        await Local();
        await LocalThenGlobal();

        var tasks = new List<Task>();
        for (var i = 0; i < 20; i++)
        {
            tasks.Add(Global());
            tasks.Add(Local());
            tasks.Add(LocalThenGlobal());
        }

        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Events_raised_locally_are_confirmed_by_a_refresh_and_replayed_by_the_next_activation()
    {
        // Every Apply of the state, raised without confirming on a fresh activation, then confirmed by RefreshNow.
        var grain = Grain(NewKey());
        await grain.SetALocal(5);
        await grain.IncrementALocal();
        await grain.SetBLocal(7);
        await grain.AddReservationLocal(1);
        await grain.AddReservationLocal(2);
        await grain.RemoveReservationLocal(1);

        Assert.Equal(new AB { A = 6, B = 7 }, await grain.GetBothGlobal());
        Assert.Equal(new[] { 2 }, await grain.GetReservationsGlobal());
        Assert.Equal(6, await grain.GetConfirmedVersion());

        await grain.Deactivate();
        await fixture.Cluster.DeactivateAsync(grain);

        // The events were read back as object: each must reach its Apply again.
        Assert.Equal(new AB { A = 6, B = 7 }, await grain.GetBothGlobal());
        Assert.Equal(new[] { 2 }, await grain.GetReservationsGlobal());
        Assert.Equal(6, await grain.GetConfirmedVersion());
        var log = await grain.GetEventLog();
        Assert.Equal(
            [typeof(UpdateA), typeof(IncrementA), typeof(UpdateB), typeof(AddReservation), typeof(AddReservation), typeof(RemoveReservation)],
            log.Select(e => e.GetType()));
    }

    [Fact]
    public async Task Conditional_updates_follow_the_confirmed_version()
    {
        var grain = Grain(NewKey());
        Assert.Equal(Tuple.Create(0, true), await grain.SetAConditional(3));
        Assert.True(await grain.Update([new UpdateB { Val = 4 }], 1));
        Assert.False(await grain.Update([new UpdateB { Val = 5 }], 1));
        Assert.Equal(new AB { A = 3, B = 4 }, await grain.GetBothGlobal());
        Assert.Equal(2, await grain.GetConfirmedVersion());
    }

    [Fact]
    public async Task An_event_the_state_has_no_Apply_for_is_refused_and_the_activation_goes_on()
    {
        var grain = Grain(NewKey());

        var error = await Assert.ThrowsAnyAsync<Exception>(() => grain.SetCGlobal(1));

        Assert.Contains("has no public Apply method taking", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(UpdateC), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Worker Cycle", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await grain.GetConfirmedVersion());
        await grain.SetAGlobal(9);
        Assert.Equal(9, await grain.GetAGlobal());
        Assert.Equal(1, await grain.GetConfirmedVersion());
    }

    [Fact]
    public async Task ClearLog_ResetDropsTentativeAndAllowsFurtherWrites()
    {
        // Orleans' LogTestGrainClearTests, as is.
        var grain = Grain(NewKey());

        await grain.Clear();
        await grain.SetAGlobal(10);
        Assert.Equal(10, await grain.GetAGlobal());
        Assert.Equal(1, await grain.GetConfirmedVersion());

        await grain.SetALocal(99);
        await grain.SetBLocal(77);
        var tentativeBeforeClear = await grain.GetBothLocal();
        Assert.Equal(99, tentativeBeforeClear.A);
        Assert.Equal(77, tentativeBeforeClear.B);

        await grain.Clear();
        Assert.Equal(0, await grain.GetConfirmedVersion());

        var confirmedAfterClear = await grain.GetBothGlobal();
        Assert.Equal(0, confirmedAfterClear.A);
        Assert.Equal(0, confirmedAfterClear.B);

        var tentativeAfterClear = await grain.GetBothLocal();
        Assert.Equal(0, tentativeAfterClear.A);
        Assert.Equal(0, tentativeAfterClear.B);

        await grain.SetAGlobal(41);
        await grain.IncrementAGlobal();
        Assert.Equal(42, await grain.GetAGlobal());
        Assert.Equal(2, await grain.GetConfirmedVersion());

        await grain.Clear();
        var exceptions = await RunConcurrentOperationsAroundClear(grain);
        Assert.Empty(exceptions);

        await grain.Clear();
        await grain.SetAGlobal(7);
        Assert.Equal(7, await grain.GetAGlobal());
        Assert.Equal(1, await grain.GetConfirmedVersion());
    }

    private static async Task<List<Exception>> RunConcurrentOperationsAroundClear(ILogTestGrain grain)
    {
        var gate = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exceptions = new List<Exception>();
        var syncLock = new object();

        Task Run(Func<Task> operation)
        {
            return Task.Run(async () =>
            {
                await gate.Task;
                try
                {
                    await operation();
                }
                catch (Exception exception)
                {
                    lock (syncLock)
                    {
                        exceptions.Add(exception);
                    }
                }
            });
        }

        var operations = new[]
        {
            Run(() => grain.SetALocal(1)),
            Run(() => grain.SetAGlobal(2)),
            Run(() => grain.IncrementAGlobal()),
            Run(() => grain.Clear()),
            Run(() => grain.SetAGlobal(3)),
            Run(async () => _ = await grain.GetAGlobal()),
        };

        gate.SetResult(true);
        await Task.WhenAll(operations);
        return exceptions;
    }
}
