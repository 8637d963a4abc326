using Orleans.EventSourcing;
using Orleans.Providers;

namespace OrleansPgStore.Tests.Grains;

/// <summary>A JournaledGrain that names its provider explicitly.</summary>
[GrainType("account")]
[LogConsistencyProvider(ProviderName = TestClusters.Provider)]
public sealed class AccountGrain : JournaledGrain<AccountState, AccountEvent>, IAccountGrain
{
    public async Task Deposit(decimal amount, string memo)
    {
        RaiseEvent(new Deposited(amount, memo));
        await ConfirmEvents();
    }

    public async Task DepositMany(int count, decimal amount, string memoPrefix)
    {
        RaiseEvents(Enumerable.Range(0, count).Select(i => new Deposited(amount, $"{memoPrefix}{i}")));
        await ConfirmEvents();
    }

    public Task<bool> TryDeposit(decimal amount, string memo) => RaiseConditionalEvent(new Deposited(amount, memo));

    public async Task Withdraw(decimal amount)
    {
        RaiseEvent(new Withdrawn(amount));
        await ConfirmEvents();
    }

    public async Task Note(string text)
    {
        RaiseEvent(new Noted(text));
        await ConfirmEvents();
    }

    public Task<AccountView> Get() => Task.FromResult(View());

    public async Task<AccountView> Refresh()
    {
        await RefreshNow();
        return View();
    }

    public Task<IReadOnlyList<AccountEvent>> History(int fromVersion, int toVersion) => RetrieveConfirmedEvents(fromVersion, toVersion);

    public Task Clear() => ClearLogAsync();

    protected override void TransitionState(AccountState state, AccountEvent @event)
    {
        switch (@event)
        {
            case Deposited d:
                state.Balance += d.Amount;
                state.Memos.Add(d.Memo);
                break;
            case Withdrawn w:
                state.Balance -= w.Amount;
                break;
            case Noted n:
                state.Notes.Add(n.Text);
                break;
        }
    }

    private AccountView View() => new(State.Balance, Version, State.Memos.ToList(), State.Notes.ToList());
}
