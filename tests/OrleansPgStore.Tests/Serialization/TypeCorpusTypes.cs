using System.Text.Json.Serialization;

namespace OrleansPgStore.Tests.Serialization;

// The shapes the type corpus stores. Each corpus value travels as the one member of a Holder<T>, as an event and as a
// [PersistentState] state.

/// <summary>Carries one corpus value as its <c>value</c> member.</summary>
[GenerateSerializer]
public sealed class Holder<T>
{
    [Id(0)]
    public T Value = default!;
}

[Flags]
public enum Access
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 8,
}

[GenerateSerializer]
public sealed record Money([property: Id(0)] decimal Amount, [property: Id(1)] string Currency);

[GenerateSerializer]
public sealed record OrderLine([property: Id(0)] string Sku, [property: Id(1)] int Quantity, [property: Id(2)] Money Price);

[GenerateSerializer]
public sealed record Order([property: Id(0)] Guid Id, [property: Id(1)] List<OrderLine> Lines, [property: Id(2)] Money? Discount);

/// <summary>An init-only record with a private [Id] field beside its positional members.</summary>
[GenerateSerializer]
public sealed record Tagged([property: Id(0)] string Name)
{
    [Id(1)]
    private int _revision;

    [Id(2)]
    public DateTimeOffset At { get; init; }

    public int Revision => _revision;

    public Tagged Revise() => this with { _revision = _revision + 1 };
}

/// <summary>A base Orleans stores polymorphically; System.Text.Json stores only what a member's declared type has.</summary>
[GenerateSerializer]
public class Animal
{
    [Id(0)]
    public string Name { get; set; } = "";
}

[GenerateSerializer]
public sealed class Dog : Animal
{
    [Id(0)]
    public int Barks { get; set; }
}

/// <summary>The same hierarchy with its derived types declared for System.Text.Json.</summary>
[GenerateSerializer]
[JsonDerivedType(typeof(Vehicle), "vehicle")]
[JsonDerivedType(typeof(Truck), "truck")]
public class Vehicle
{
    [Id(0)]
    public int Wheels { get; set; }
}

[GenerateSerializer]
public sealed class Truck : Vehicle
{
    [Id(0)]
    public decimal Payload { get; set; }
}

/// <summary>A plain type (no Orleans attributes) whose state is public fields.</summary>
public sealed class PlainFields
{
    public int Count;
    public string Label = "";
}

/// <summary>A plain type whose state is private: nothing System.Text.Json could read back.</summary>
public sealed class PrivateTally
{
    private int _count;

    public int Count => _count;

    public void Add() => _count++;
}

/// <summary>A record whose <c>Name</c> is declared non-nullable.</summary>
[GenerateSerializer]
public sealed record Person([property: Id(0)] string Name, [property: Id(1)] string? Nickname);

/// <summary>A plain record (no Orleans attributes): System.Text.Json creates it through its constructor.</summary>
public sealed record PlainRecord(string Name, int Count);

/// <summary>A plain class whose constructor sets its get-only properties.</summary>
public sealed class PlainCtorBound(string name, int count)
{
    public string Name { get; } = name;

    public int Count { get; } = count;
}

/// <summary>A plain class whose constructor parameter feeds no member of its name: it could not be read back.</summary>
public sealed class PlainCtorUnbound(string who)
{
    public string Owner { get; } = who;
}
