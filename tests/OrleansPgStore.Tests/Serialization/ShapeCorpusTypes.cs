using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace OrleansPgStore.Tests.Serialization;

// Event and state types written the way Orleans users write grain state and events: [Id] fields (public, private,
// readonly), records (positional, with and without [Id], record structs), structs, inheritance, generics,
// constructors only Orleans can call, get-only collections, GenerateFieldIds. Each is stored as itself, not inside
// a holder: ShapeCorpus lists them with the outcome the JSON contract promises.

[GenerateSerializer]
public sealed class PublicIdFields
{
    [Id(0)] public int Count;
    [Id(1)] public string Name = "";
    [Id(2)] public decimal Amount;
    [Id(3)] public Dictionary<string, List<int>> Buckets = [];
}

[GenerateSerializer]
public sealed class PrivateIdFields
{
    [Id(0)] private int _count;
    [Id(1)] private string _name = "";
    [Id(2)] private List<string> _items = [];

    public int Count => _count;
    public string Name => _name;
    public IReadOnlyList<string> Items => _items;

    public PrivateIdFields Fill(int count, string name, params string[] items)
    {
        _count = count;
        _name = name;
        _items = [.. items];
        return this;
    }
}

/// <summary>Readonly [Id] fields set by the only constructor, whose parameter names match no member.</summary>
[GenerateSerializer]
public sealed class ReadonlyFieldsCtor
{
    [Id(0)] private readonly string _owner;
    [Id(1)] private readonly int _limit;

    public ReadonlyFieldsCtor(string who, int max)
    {
        _owner = who;
        _limit = max;
    }

    public string Owner => _owner;
    public int Limit => _limit;
}

[GenerateSerializer]
public sealed record PositionalNoIds(string From, string To, int Steps);

[GenerateSerializer]
public sealed record PositionalWithIds([property: Id(0)] Guid Id, [property: Id(1)] DateTimeOffset At, [property: Id(2)] decimal? Limit);

/// <summary>A positional record with an extra [Id] property and a private [Id] field in its body.</summary>
[GenerateSerializer]
public sealed record RecordWithBody([property: Id(0)] string Name)
{
    [Id(1)] public List<string> Tags { get; init; } = [];
    [Id(2)] private long _seen;

    public long Seen => _seen;
    public RecordWithBody See() => this with { _seen = _seen + 1 };
}

[GenerateSerializer]
public record struct PositionalRecordStruct(int X, int Y, string Label);

[GenerateSerializer]
public readonly record struct ReadonlyRecordStruct([property: Id(0)] long Ticks, [property: Id(1)] string Zone);

[GenerateSerializer]
public struct MutableStruct
{
    [Id(0)] public int A;
    [Id(1)] public double B;
    [Id(2)] public string? C { get; set; }
}

[GenerateSerializer]
public readonly struct ReadonlyStruct
{
    public ReadonlyStruct(int width, int height)
    {
        Width = width;
        Height = height;
    }

    [Id(0)] public int Width { get; }
    [Id(1)] public int Height { get; }
}

[GenerateSerializer]
public sealed class InitAndPrivateSetters
{
    [Id(0)] public string Sku { get; init; } = "";
    [Id(1)] public int Quantity { get; private set; }
    [Id(2)] internal DateTime At { get; set; }
    [Id(3)] private Guid Secret { get; set; }

    public InitAndPrivateSetters Set(int quantity, DateTime at, Guid secret)
    {
        Quantity = quantity;
        At = at;
        Secret = secret;
        return this;
    }
}

/// <summary>Get-only collections, initialized by the type: filled in place on read.</summary>
[GenerateSerializer]
public sealed class GetOnlyCollections
{
    [Id(0)] public List<string> Items { get; } = [];
    [Id(1)] public Dictionary<string, int> Counts { get; } = [];
    [Id(2)] public HashSet<Guid> Seen { get; } = [];
}

[GenerateSerializer]
public class LevelOne
{
    [Id(0)] public string One { get; set; } = "";
}

[GenerateSerializer]
public class LevelTwo : LevelOne
{
    [Id(0)] public int Two;
}

/// <summary>Three levels, each with its own [Id(0)].</summary>
[GenerateSerializer]
public sealed class LevelThree : LevelTwo
{
    [Id(0)] private decimal _three;

    public decimal Three => _three;
    public LevelThree WithThree(decimal three)
    {
        _three = three;
        return this;
    }
}

[GenerateSerializer]
public sealed class Envelope<T>
{
    [Id(0)] public T Payload { get; set; } = default!;
    [Id(1)] public string Kind { get; set; } = "";
}

[GenerateSerializer(GenerateFieldIds = GenerateFieldIds.PublicProperties)]
public sealed class PublicPropertiesNoIds
{
    public string Name { get; set; } = "";
    public int Age { get; set; }
    public List<string> Nicknames { get; set; } = [];
}

[Immutable, GenerateSerializer]
public sealed record ImmutableRecord([property: Id(0)] string Code, [property: Id(1)] ImmutableArray<int> Digits);

[GenerateSerializer]
public sealed class RenamedMembers
{
    [Id(0), JsonPropertyName("legacy_total")] public decimal Total { get; set; }
    [Id(1), JsonPropertyName("n")] public string Note = "";
}

[GenerateSerializer]
public sealed class Outer
{
    [Id(0)] public Inner Child { get; set; } = new();
    [Id(1)] public List<Inner> Children { get; set; } = [];
    [Id(2)] public Dictionary<string, Inner> ByName { get; set; } = [];

    [GenerateSerializer]
    public sealed class Inner
    {
        [Id(0)] public int Depth;
        [Id(1)] public Inner? Next;
    }
}

[GenerateSerializer, Alias("shape.aliased")]
public sealed record AliasedRecord([property: Id(0)] string Value);

[GenerateSerializer]
public sealed class NullableMembers
{
    [Id(0)] public int? Maybe;
    [Id(1)] public DateTimeOffset? When;
    [Id(2)] public string? Text;
    [Id(3)] public MutableStruct? Inner;
    [Id(4)] public DayOfWeek Day;
    [Id(5)] public DayOfWeek? MaybeDay;
}

[GenerateSerializer]
public sealed record RequiredMembers
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required int Version { get; init; }
}

[GenerateSerializer]
[JsonDerivedType(typeof(CardPayment), "card")]
[JsonDerivedType(typeof(CashPayment), "cash")]
public abstract class ShapePayment
{
    [Id(0)] public decimal Amount { get; set; }
}

[GenerateSerializer]
public sealed class CardPayment : ShapePayment
{
    [Id(0)] public string Last4 { get; set; } = "";
}

[GenerateSerializer]
public sealed class CashPayment : ShapePayment
{
    [Id(0)] public bool Change { get; set; }
}

[GenerateSerializer]
public sealed class Wallet
{
    [Id(0)] public List<ShapePayment> Payments { get; set; } = [];
    [Id(1)] public ShapePayment? Last { get; set; }
}

/// <summary>Members with [NonSerialized] and without [Id]: Orleans keeps only the [Id] one.</summary>
[GenerateSerializer]
public sealed class WithTransients
{
    [Id(0)] public int Kept;
    [NonSerialized] public object? Cache;
    public int Computed => Kept * 2;
}

/// <summary>Collection-interface members holding the concrete types a user would put there.</summary>
[GenerateSerializer]
public sealed class InterfaceCollections
{
    [Id(0)] public IReadOnlyList<string> Names { get; set; } = new List<string>();
    [Id(1)] public IList<int> Numbers { get; set; } = new List<int>();
    [Id(2)] public IDictionary<string, int> Map { get; set; } = new Dictionary<string, int>();
    [Id(3)] public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    [Id(4)] public ICollection<long> Bag { get; set; } = new List<long>();
    [Id(5)] public ISet<string> Set { get; set; } = new HashSet<string>();
}

[GenerateSerializer]
public sealed class ReadOnlyListHoldingArray
{
    [Id(0)] public IReadOnlyList<string> Names { get; set; } = new List<string>();
}

[GenerateSerializer]
public sealed class EnumerableHoldingArray
{
    [Id(0)] public IEnumerable<int> Values { get; set; } = new List<int>();
}

[GenerateSerializer]
public sealed class ReadOnlyListHoldingImmutableList
{
    [Id(0)] public IReadOnlyList<int> Values { get; set; } = new List<int>();
}

/// <summary>Two members stored under one JSON name.</summary>
[GenerateSerializer]
public sealed class CollidingNames
{
    [Id(0)] public int Value;
    [Id(1)] private int value;

    public int Hidden => value;
    public CollidingNames Set(int v)
    {
        value = v;
        return this;
    }
}

[GenerateSerializer]
public sealed class ObjectMember
{
    [Id(0)] public object? Anything { get; set; }
}

[GenerateSerializer]
public sealed class BaseTypedMember
{
    [Id(0)] public LevelOne? Level { get; set; }
}
