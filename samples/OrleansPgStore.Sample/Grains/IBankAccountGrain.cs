namespace OrleansPgStore.Sample.Grains;

[GenerateSerializer]
public sealed record AccountSummary([property: Id(0)] string? Owner, [property: Id(1)] decimal Balance, [property: Id(2)] int Version);

public interface IBankAccountGrain : IGrainWithStringKey
{
    Task Open(string owner);

    Task Deposit(decimal amount, string reference);

    /// <summary>Withdraws, or throws <see cref="InvalidOperationException"/> when the balance does not cover it.</summary>
    Task Withdraw(decimal amount, string reference);

    Task<AccountSummary> Summary();

    /// <summary>Every event so far, read back from the journal.</summary>
    Task<IReadOnlyList<BankAccountEvent>> Statement();
}
