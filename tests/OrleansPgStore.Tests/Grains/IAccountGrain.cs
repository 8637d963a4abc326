namespace OrleansPgStore.Tests.Grains;

/// <summary>What a test sees of an account: its confirmed state and version.</summary>
[GenerateSerializer]
public sealed record AccountView(
    [property: Id(0)] decimal Balance,
    [property: Id(1)] int Version,
    [property: Id(2)] IReadOnlyList<string> Memos,
    [property: Id(3)] IReadOnlyList<string> Notes);

public interface IAccountGrain : IGrainWithStringKey
{
    Task Deposit(decimal amount, string memo);

    /// <summary>Raises <paramref name="count"/> deposits as one batch.</summary>
    Task DepositMany(int count, decimal amount, string memoPrefix);

    Task<bool> TryDeposit(decimal amount, string memo);

    Task Withdraw(decimal amount);

    Task Note(string text);

    Task<AccountView> Get();

    Task<AccountView> Refresh();

    Task<IReadOnlyList<AccountEvent>> History(int fromVersion, int toVersion);

    Task Clear();
}
