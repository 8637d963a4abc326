using Orleans.EventSourcing;
using Orleans.Providers;

namespace OrleansPgStore.Sample.Grains;

/// <summary>An event-sourced bank account: its events are rows in the events table, stream <c>account/{id}</c>.</summary>
[GrainType("account")]
[LogConsistencyProvider(ProviderName = "Postgres")]
public sealed class BankAccountGrain : JournaledGrain<BankAccountState, BankAccountEvent>, IBankAccountGrain
{
    public async Task Open(string owner)
    {
        if (State.Owner is null)
        {
            RaiseEvent(new AccountOpened(owner));
            await ConfirmEvents();
        }
    }

    public async Task Deposit(decimal amount, string reference)
    {
        RaiseEvent(new MoneyDeposited(amount, reference));
        await ConfirmEvents();
    }

    public async Task Withdraw(decimal amount, string reference)
    {
        if (State.Balance < amount)
        {
            throw new InvalidOperationException($"{this.GetPrimaryKeyString()} cannot pay {amount:0.00}: the balance is {State.Balance:0.00}.");
        }

        // Appended only if no other event got in since the check (say, from a second activation during a failover).
        if (!await RaiseConditionalEvent(new MoneyWithdrawn(amount, reference)))
        {
            throw new InvalidOperationException($"{this.GetPrimaryKeyString()} changed concurrently; try again.");
        }
    }

    public Task<AccountSummary> Summary() => Task.FromResult(new AccountSummary(State.Owner, State.Balance, Version));

    public Task<IReadOnlyList<BankAccountEvent>> Statement() => RetrieveConfirmedEvents(0, Version);
}
