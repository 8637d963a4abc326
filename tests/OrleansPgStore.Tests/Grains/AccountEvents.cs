namespace OrleansPgStore.Tests.Grains;

/// <summary>Events of <see cref="AccountGrain"/>; each kind exercises one rule for naming event types.</summary>
[GenerateSerializer]
public abstract record AccountEvent;

/// <summary>Named by its alias.</summary>
[GenerateSerializer, Alias("test.deposited")]
public sealed record Deposited([property: Id(0)] decimal Amount, [property: Id(1)] string Memo) : AccountEvent;

/// <summary>Named by its alias.</summary>
[GenerateSerializer, Alias("test.withdrawn")]
public sealed record Withdrawn([property: Id(0)] decimal Amount) : AccountEvent;

/// <summary>No alias and no registered name: named by its full CLR name.</summary>
[GenerateSerializer]
public sealed record Noted([property: Id(0)] string Text) : AccountEvent;
