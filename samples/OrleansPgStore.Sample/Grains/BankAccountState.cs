namespace OrleansPgStore.Sample.Grains;

/// <summary>An account's state: the fold of its events. Snapshots store it with Orleans' serializer.</summary>
[GenerateSerializer]
public sealed class BankAccountState
{
    [Id(0)]
    public string? Owner { get; set; }

    [Id(1)]
    public decimal Balance { get; set; }

    public void Apply(AccountOpened e) => Owner = e.Owner;

    public void Apply(MoneyDeposited e) => Balance += e.Amount;

    public void Apply(MoneyWithdrawn e) => Balance -= e.Amount;
}
