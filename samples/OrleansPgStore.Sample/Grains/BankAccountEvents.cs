namespace OrleansPgStore.Sample.Grains;

/// <summary>What can happen to a bank account. Aliases name the events in the journal, so classes may be renamed.</summary>
[GenerateSerializer]
public abstract record BankAccountEvent;

[GenerateSerializer, Alias("bank.opened")]
public sealed record AccountOpened([property: Id(0)] string Owner) : BankAccountEvent;

[GenerateSerializer, Alias("bank.deposited")]
public sealed record MoneyDeposited([property: Id(0)] decimal Amount, [property: Id(1)] string Reference) : BankAccountEvent;

[GenerateSerializer, Alias("bank.withdrawn")]
public sealed record MoneyWithdrawn([property: Id(0)] decimal Amount, [property: Id(1)] string Reference) : BankAccountEvent;
