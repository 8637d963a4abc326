using System.Text.Json.Serialization;

namespace OrleansPgStore.Tests.Grains;

// Types written the way Orleans users (and Orleans' own test grains) write them.

/// <summary>LogTestGrain's event shape: a public [Id] field.</summary>
[GenerateSerializer]
public sealed class UpdateA
{
    [Id(0)]
    public int Val;
}

/// <summary>LogTestGrain's state shape: [Id] fields, a dictionary, a constructor that initializes it.</summary>
[GenerateSerializer]
public sealed class FieldState
{
    [Id(0)]
    public int A;

    [Id(1)]
    public int B;

    [Id(2)]
    public Dictionary<string, int> Reservations;

    public FieldState()
    {
        Reservations = [];
    }

    public void Apply(UpdateA e) => A = e.Val;
}

/// <summary>Non-public [Id] members, private setters, init-only and get-only properties, inheritance.</summary>
[GenerateSerializer]
public class HiddenBase
{
    [Id(0)]
    private string _secret = "";

    [Id(1)]
    public int Count { get; private set; }

    public string Secret => _secret;

    public void Set(string secret, int count)
    {
        _secret = secret;
        Count = count;
    }
}

[GenerateSerializer]
public sealed class HiddenDerived : HiddenBase
{
    public HiddenDerived(Guid id) => Id = id;

    [Id(0)]
    public Guid Id { get; }

    [Id(1)]
    internal long Internal { get; set; }

    [Id(2)]
    public DateTime At { get; init; }

    [Id(3)]
    private readonly List<string> _tags = [];

    public IReadOnlyList<string> Tags => _tags;

    public void Tag(string tag) => _tags.Add(tag);
}

/// <summary>A positional record without explicit ids (Orleans includes primary-constructor parameters of records).</summary>
[GenerateSerializer]
public sealed record Moved(string From, string To, [property: Id(5)] int Steps);

/// <summary>PersonRegistered's shape: only a parameterized constructor.</summary>
[GenerateSerializer]
public sealed class Registered
{
    public Registered(string? firstName, string? lastName)
    {
        FirstName = firstName;
        LastName = lastName;
    }

    [Id(0)]
    public string? FirstName { get; set; }

    [Id(1)]
    public string? LastName { get; set; }
}

/// <summary>A member typed object: System.Text.Json cannot read it back as written.</summary>
[GenerateSerializer]
public sealed class Untyped
{
    [Id(0)]
    public object? Payload { get; set; }
}

public interface IShape;

/// <summary>A member typed by an interface without derived types declared.</summary>
[GenerateSerializer]
public sealed class Drawing
{
    [Id(0)]
    public IShape? Shape { get; set; }
}

/// <summary>A C# required member: missing it fails a strict read.</summary>
public sealed class Invoice
{
    public required string Number { get; init; }

    public decimal Total { get; set; }
}

/// <summary>Tolerant by System.Text.Json's own attribute.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed class Lenient
{
    public int Value { get; set; }
}

/// <summary>A member Orleans does not persist (no [Id]) and System.Text.Json could not store faithfully: left out.</summary>
[GenerateSerializer]
public sealed class WithScratch
{
    [Id(0)]
    public int Value { get; set; }

    [NonSerialized]
    private object? _scratch;

    public object? Scratch => _scratch;

    public void Scribble(object value) => _scratch = value;
}

/// <summary>An event at schema version 2: version 1 stored its amount as <c>amt</c>.</summary>
[GenerateSerializer, Alias("test.paid"), OrleansPgStore.Serialization.EventSchemaVersion(2)]
public sealed record Paid([property: Id(0)] decimal Amount);
