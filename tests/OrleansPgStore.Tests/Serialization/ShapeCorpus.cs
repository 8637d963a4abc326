using System.Collections.Immutable;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// The shape corpus: event and state types as Orleans users write them (ShapeCorpusTypes.cs), each stored as
/// itself. A faithful shape reads back equal to Orleans' deep copy (<see cref="Structural"/>); a refused one fails the
/// write naming type and member, with nothing written. <see cref="TypeCorpus"/> covers the values inside members.
/// </summary>
public static class ShapeCorpus
{
    private static readonly DateTime Utc = new DateTime(2026, 12, 7, 3, 4, 5, DateTimeKind.Utc).AddTicks(7);

    public static readonly IReadOnlyList<ShapeEntry> Entries =
    [
        Faithful("public [Id] fields", () => new PublicIdFields { Count = 3, Name = "n", Amount = 1.50m, Buckets = { ["a"] = [3, 1] } }),
        Faithful("private [Id] fields", () => new PrivateIdFields().Fill(2, "p", "x", "y")),
        Faithful("readonly [Id] fields, constructor parameters matching no member", () => new ReadonlyFieldsCtor("ada", 5)),
        Faithful("positional record without [Id]", () => new PositionalNoIds("a", "b", 3)),
        Faithful("positional record with [Id]s", () => new PositionalWithIds(
            Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), new DateTimeOffset(Utc).ToOffset(TimeSpan.FromHours(2)), 1.10m)),
        Faithful("record with [Id] body members and a private [Id] field", () => new RecordWithBody("r") { Tags = ["t1", "t2"] }.See().See()),
        Faithful("record struct (positional, no [Id])", () => new PositionalRecordStruct(1, -2, "p")),
        Faithful("readonly record struct with [Id]s", () => new ReadonlyRecordStruct(Utc.Ticks, "Europe/Paris")),
        Faithful("struct with [Id] fields and a property", () => new MutableStruct { A = 1, B = -0.0, C = "c" }),
        Faithful("readonly struct, get-only properties, constructor", () => new ReadonlyStruct(640, 480)),
        Faithful("init-only, private-setter, internal and protected [Id] properties", () => new InitAndPrivateSetters { Sku = "s" }
            .Set(4, new DateTime(2026, 12, 7, 1, 2, 3, DateTimeKind.Local), Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"))),
        Faithful("get-only collection properties", () => Filled(new GetOnlyCollections())),
        Faithful("three levels of inheritance, [Id(0)] on each", () => new LevelThree { One = "1", Two = 2 }.WithThree(3.30m)),
        Faithful("generic Envelope<PositionalNoIds>", () => new Envelope<PositionalNoIds> { Payload = new("x", "y", 1), Kind = "k" }),
        Faithful("generic Envelope<List<long>>", () => new Envelope<List<long>> { Payload = [long.MaxValue, -1], Kind = "k" }),
        Faithful("GenerateFieldIds.PublicProperties, no [Id]", () => new PublicPropertiesNoIds { Name = "n", Age = 40, Nicknames = ["a"] }),
        Faithful("[Immutable] record with ImmutableArray", () => new ImmutableRecord("c", [3, 1, 2])),
        Faithful("[JsonPropertyName] on [Id] members", () => new RenamedMembers { Total = 2.500m, Note = "x" }),
        Faithful("nested [GenerateSerializer] class, recursive member", () => new Outer
        {
            Child = new() { Depth = 1, Next = new() { Depth = 2 } },
            Children = [new() { Depth = 3 }],
            ByName = { ["k"] = new() { Depth = 4 } },
        }),
        Faithful("[Alias]ed record", () => new AliasedRecord("v")),
        Faithful("nullable members (set)", () => new NullableMembers
        {
            Maybe = 0, When = new DateTimeOffset(Utc), Text = "", Inner = new MutableStruct { A = 7 }, Day = DayOfWeek.Friday, MaybeDay = DayOfWeek.Sunday,
        }),
        Faithful("nullable members (null)", () => new NullableMembers()),
        Faithful("record with required init members", () => new RequiredMembers { Id = "i", Version = 3 }),
        Faithful("abstract base with [JsonDerivedType]s in members and lists", () => new Wallet
        {
            Payments = [new CardPayment { Amount = 1.5m, Last4 = "4242" }, new CashPayment { Amount = 2m, Change = true }],
            Last = new CashPayment { Amount = 0.10m },
        }),
        Faithful("[NonSerialized] and computed members beside an [Id] field", () => new WithTransients { Kept = 4, Cache = new object() }),
        Faithful("collection interfaces holding their default concrete types", () => new InterfaceCollections
        {
            Names = new List<string> { "b", "a" },
            Numbers = new List<int> { 2, 1 },
            Map = new Dictionary<string, int> { ["m"] = 1 },
            Labels = new Dictionary<string, string> { ["l"] = "v" },
            Bag = new List<long> { 5 },
            Set = new HashSet<string> { "s" },
        }),
        // A member declared as a collection interface reads back as the collection System.Text.Json creates for it.
        Converted("IReadOnlyList<string> holding a string[]",
            () => new ReadOnlyListHoldingArray { Names = new[] { "a", "b" } },
            () => new ReadOnlyListHoldingArray { Names = new List<string> { "a", "b" } }),
        Converted("IEnumerable<int> holding an int[]",
            () => new EnumerableHoldingArray { Values = new[] { 1, 2 } },
            () => new EnumerableHoldingArray { Values = new List<int> { 1, 2 } }),
        Converted("IReadOnlyList<int> holding an ImmutableList",
            () => new ReadOnlyListHoldingImmutableList { Values = ImmutableList.Create(3, 1) },
            () => new ReadOnlyListHoldingImmutableList { Values = new List<int> { 3, 1 } }),
        Converted("IDictionary and ISet holding sorted collections",
            () => new InterfaceCollections
            {
                Map = new SortedDictionary<string, int> { ["b"] = 2, ["aa"] = 1 },
                Set = new SortedSet<string> { "y", "x" },
            },
            () => new InterfaceCollections
            {
                Map = new Dictionary<string, int> { ["aa"] = 1, ["b"] = 2 },
                Set = new HashSet<string> { "x", "y" },
            }),

        Refused("two [Id] members stored under one JSON name", () => new CollidingNames { Value = 1 }.Set(2), member: "value", owner: nameof(CollidingNames)),
        Refused("member typed object", () => new ObjectMember { Anything = 1 }, member: "anything", owner: nameof(ObjectMember)),
        Refused("base-typed member holding a derived [GenerateSerializer] type", () => new BaseTypedMember { Level = new LevelTwo { One = "1", Two = 2 } },
            member: "level", owner: nameof(BaseTypedMember)),
    ];

    public static ShapeEntry Get(string name) => Entries.Single(e => e.Name == name);

    public static TheoryData<string> Faithfuls => new(Entries.Where(e => e.Faithful && e.ReadsBackAs is null).Select(e => e.Name));

    public static TheoryData<string> Conversions => new(Entries.Where(e => e.ReadsBackAs is not null).Select(e => e.Name));

    public static TheoryData<string> Refusals => new(Entries.Where(e => !e.Faithful).Select(e => e.Name));

    private static GetOnlyCollections Filled(GetOnlyCollections value)
    {
        value.Items.AddRange(["b", "a"]);
        value.Counts["c"] = 3;
        value.Seen.Add(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"));
        return value;
    }

    private static ShapeEntry Faithful<T>(string name, Func<T> value) where T : notnull
        => new(name, typeof(T), () => value(), Faithful: true, Member: null, Owner: null);

    /// <summary>Stored in full, and read back as <paramref name="readsBackAs"/>: the same items in collections of the
    /// types System.Text.Json creates for the declared interfaces.</summary>
    private static ShapeEntry Converted<T>(string name, Func<T> value, Func<T> readsBackAs) where T : notnull
        => new(name, typeof(T), () => value(), Faithful: true, Member: null, Owner: null) { ReadsBackAs = () => readsBackAs() };

    private static ShapeEntry Refused<T>(string name, Func<T> value, string member, string owner) where T : notnull
        => new(name, typeof(T), () => value(), Faithful: false, member, owner);
}

/// <summary>One shape: how to make a value of it, and what the contract promises.</summary>
public sealed record ShapeEntry(string Name, Type Type, Func<object> Create, bool Faithful, string? Member, string? Owner)
{
    /// <summary>For a shape whose interface-typed collections change type: the value it reads back as.</summary>
    public Func<object>? ReadsBackAs { get; init; }

    public override string ToString() => Name;
}
