using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Collections.ObjectModel;
using System.Numerics;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// The type corpus: one entry per type, with the outcome the JSON contract promises for it. A faithful entry must read
/// back equal to Orleans' own deep copy of the value (<see cref="Structural"/>: order, comparers, bits); a refused one
/// must fail the write naming type and member. Add an entry to extend it; docs/json-contract.md shows the table.
/// </summary>
public static class TypeCorpus
{
    public static readonly IReadOnlyList<CorpusEntry> Entries =
    [
        // Tuples and pairs
        Faithful("ValueTuple (named)", () => (X: 3, Y: 4)),
        Faithful("ValueTuple (unnamed, mixed)", () => (1, "two", true)),
        Faithful("ValueTuple (8 items, nested Rest)", () => (1, 2, 3, 4, 5, 6, 7, 8)),
        Faithful("ValueTuple? (value)", () => ((int X, int Y)?)(1, -2)),
        Faithful("ValueTuple? (null)", () => ((int X, int Y)?)null),
        Faithful("Tuple<int, string>", () => Tuple.Create(1, "one")),
        Faithful("KeyValuePair<string, int>", () => new KeyValuePair<string, int>("k", 7)),
        Faithful("KeyValuePair<string, int>?", () => (KeyValuePair<string, int>?)new KeyValuePair<string, int>("k", 7)),
        Faithful("Vector3?", () => (Vector3?)new Vector3(1, 2, -0f)),

        // Numbers
        Faithful("int (min)", () => int.MinValue),
        Faithful("long (max)", () => long.MaxValue),
        Faithful("ulong (max)", () => ulong.MaxValue),
        Faithful("Int128 (max)", () => Int128.MaxValue),
        Faithful("UInt128 (max)", () => UInt128.MaxValue),
        Faithful("BigInteger (41 digits)", () => BigInteger.Pow(10, 40) + 1),
        Faithful("BigInteger (negative)", () => -BigInteger.Pow(2, 100)),
        Faithful("decimal (scale: 1.10m)", () => 1.10m),
        Faithful("decimal (max)", () => decimal.MaxValue),
        Faithful("decimal (negative zero)", () => -0.00m),
        Faithful("double (0.1)", () => 0.1),
        Faithful("double (-0.0)", () => -0.0),
        Faithful("double (NaN)", () => double.NaN),
        Faithful("double (+∞)", () => double.PositiveInfinity),
        Faithful("double (-∞)", () => double.NegativeInfinity),
        Faithful("double (epsilon)", () => double.Epsilon),
        Faithful("double (max)", () => double.MaxValue),
        Faithful("float (-0.0)", () => -0.0f),
        Faithful("float (NaN)", () => float.NaN),
        Faithful("Half (1.5)", () => (Half)1.5),
        Faithful("Half (-0.0)", () => Half.NegativeZero),
        Faithful("Half (+∞)", () => Half.PositiveInfinity),
        Faithful("Complex", () => new Complex(1.5, -2.25)),
        Faithful("Complex (-0.0, NaN)", () => new Complex(-0.0, double.NaN)),
        Faithful("Vector2", () => new Vector2(1.5f, -2f)),
        Faithful("Vector3", () => new Vector3(1, 2, 3)),
        Faithful("Vector4", () => new Vector4(1, 2, 3, -0f)),
        Faithful("Quaternion", () => new Quaternion(1, 2, 3, 4)),
        Faithful("Matrix3x2", () => new Matrix3x2(1, 2, 3, 4, 5, 6)),
        Faithful("System.Drawing.Point", () => new System.Drawing.Point(3, -4)),
        Faithful("double? (-0.0)", () => (double?)-0.0),
        Faithful("int? (value)", () => (int?)5),
        Faithful("int? (null)", () => (int?)null),
        Faithful("[Flags] enum (Read | Admin)", () => Access.Read | Access.Admin),
        Faithful("enum (undefined value 42)", () => (DayOfWeek)42),

        // Text, ids, bytes
        Faithful("string (non-BMP, quotes)", () => "a \"😀\" \\ é"),
        Faithful("char", () => 'é'),
        Faithful("Guid", () => Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")),
        Faithful("byte[]", () => new byte[] { 0, 1, 255 }),
        Faithful("ReadOnlyMemory<byte>", () => new ReadOnlyMemory<byte>([9, 8, 7])),
        Faithful("Uri (absolute)", () => new Uri("https://example.org/a?b=c#d")),
        Faithful("Uri (relative)", () => new Uri("../x", UriKind.Relative)),
        Faithful("Version (4 parts)", () => new Version(1, 2, 3, 4)),
        Faithful("Version (2 parts)", () => new Version(1, 2)),

        // Time
        Faithful("DateTime (Utc, 100 ns)", () => new DateTime(2026, 12, 6, 13, 45, 26, DateTimeKind.Utc).AddTicks(1234567)),
        Faithful("DateTime (Local)", () => new DateTime(2026, 12, 6, 13, 45, 26, DateTimeKind.Local).AddTicks(7)),
        Faithful("DateTime (Unspecified)", () => new DateTime(2026, 12, 6, 13, 45, 26, DateTimeKind.Unspecified)),
        Faithful("DateTime (MinValue)", () => DateTime.MinValue),
        Faithful("DateTime (MaxValue)", () => DateTime.MaxValue),
        Faithful("DateTimeOffset (+05:30)", () => new DateTimeOffset(2026, 12, 6, 13, 45, 26, TimeSpan.FromMinutes(330)).AddTicks(1)),
        Faithful("DateOnly", () => new DateOnly(2026, 12, 6)),
        Faithful("TimeOnly (100 ns)", () => new TimeOnly(13, 45, 26).Add(TimeSpan.FromTicks(1234567))),
        Faithful("TimeSpan (negative, 100 ns)", () => -TimeSpan.FromDays(3).Add(TimeSpan.FromTicks(1))),

        // Collections
        Faithful("List<int>", () => new List<int> { 3, 1, 2 }),
        Faithful("int[][] (jagged)", () => new[] { new[] { 1, 2 }, [], new[] { 3 } }),
        Faithful("ImmutableArray<int>", () => ImmutableArray.Create(3, 1, 2)),
        Faithful("HashSet<string>", () => new HashSet<string> { "b", "a" }),
        Faithful("Dictionary<string, int>", () => new Dictionary<string, int> { ["b"] = 1, ["a"] = 2 }),
        Faithful("Dictionary<string, int> (keys differing in case)", () => new Dictionary<string, int> { ["a"] = 1, ["A"] = 2 }),
        Faithful("Dictionary<int, string> (number keys)", () => new Dictionary<int, string> { [2] = "two", [-1] = "minus one" }),
        Faithful("Dictionary<double, string> (keys -0.0, NaN, 0.5)", () => new Dictionary<double, string> { [-0.0] = "minus zero", [double.NaN] = "nan", [0.5] = "half" }),
        Faithful("Dictionary<Guid, decimal>", () => new Dictionary<Guid, decimal> { [Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")] = 1.50m }),
        Faithful("Dictionary<DayOfWeek, int> (enum keys, one undefined)", () => new Dictionary<DayOfWeek, int> { [DayOfWeek.Friday] = 5, [(DayOfWeek)42] = 42 }),
        Faithful("Dictionary<Access, int> ([Flags] keys combined)", () => new Dictionary<Access, int> { [Access.Read | Access.Admin] = 9, [Access.None] = 0 }),
        Faithful("Dictionary<DateTime, int> (Utc, Unspecified keys)", () => new Dictionary<DateTime, int>
        {
            [new DateTime(2026, 12, 7, 1, 2, 3, DateTimeKind.Utc).AddTicks(1)] = 1, [new DateTime(2026, 12, 7, 1, 2, 3, DateTimeKind.Unspecified)] = 2,
        }),
        Faithful("Dictionary<DateTimeOffset, int> (offset keys)", () => new Dictionary<DateTimeOffset, int> { [new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.FromHours(-5))] = 1 }),
        Faithful("Dictionary<decimal, string> (scaled keys)", () => new Dictionary<decimal, string> { [1.10m] = "a", [-0.5m] = "b" }),
        Faithful("Dictionary<long, string> (extreme keys)", () => new Dictionary<long, string> { [long.MinValue] = "min", [long.MaxValue] = "max" }),
        Faithful("Dictionary<char, int>", () => new Dictionary<char, int> { ['é'] = 1, ['"'] = 2 }),
        Faithful("Dictionary<bool, int>", () => new Dictionary<bool, int> { [true] = 1, [false] = 0 }),
        Faithful("Dictionary<string, HashSet<string>>", () => new Dictionary<string, HashSet<string>> { ["a"] = ["x", "y"] }),
        Faithful("Stack<int> (top 3)", () => new Stack<int>([1, 2, 3])),
        Faithful("ImmutableStack<int> (top 3)", () => ImmutableStack.Create(1, 2, 3)),
        Faithful("ConcurrentStack<int> (top 3)", () => new ConcurrentStack<int>([1, 2, 3])),
        Faithful("ConcurrentBag<int>", () => new ConcurrentBag<int>([1, 2, 3])),
        Faithful("Queue<int>", () => new Queue<int>([1, 2, 3])),
        Faithful("ConcurrentQueue<int>", () => new ConcurrentQueue<int>([1, 2, 3])),
        Faithful("ImmutableQueue<int>", () => ImmutableQueue.Create(1, 2, 3)),
        Faithful("LinkedList<int>", () => new LinkedList<int>([3, 1, 2])),
        Faithful("SortedDictionary<string, int>", () => new SortedDictionary<string, int> { ["b"] = 1, ["a"] = 2 }),
        Faithful("SortedList<int, string>", () => new SortedList<int, string> { [2] = "b", [1] = "a" }),
        Faithful("SortedSet<int>", () => new SortedSet<int> { 3, 1, 2 }),
        Faithful("ImmutableSortedDictionary<string, int>", () => ImmutableSortedDictionary.CreateRange([new KeyValuePair<string, int>("b", 1), new("a", 2)])),
        Faithful("ImmutableSortedSet<int>", () => ImmutableSortedSet.Create(3, 1, 2)),
        Faithful("ImmutableDictionary<string, int>", () => ImmutableDictionary.CreateRange([new KeyValuePair<string, int>("a", 1)])),
        Faithful("ImmutableHashSet<string>", () => ImmutableHashSet.Create("a")),
        Faithful("ConcurrentDictionary<string, int>", () => new ConcurrentDictionary<string, int>([new KeyValuePair<string, int>("a", 1)])),
        Faithful("Dictionary<string, int> (StringComparer.Ordinal)", () => new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 1 }),

        // Records and Orleans types
        Faithful("nested records", () => new Order(
            Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            [new OrderLine("sku-1", 2, new Money(1.10m, "EUR")), new OrderLine("sku-2", 1, new Money(-0.00m, "EUR"))],
            Discount: null)),
        Faithful("record: init-only, private [Id] field", () => new Tagged("t") { At = DateTimeOffset.UnixEpoch.ToOffset(TimeSpan.FromHours(-3)) }.Revise()),
        Faithful("[GenerateSerializer] derived in a member of its own type", () => new Dog { Name = "rex", Barks = 3 }),
        Faithful("derived in a base-typed member, with [JsonDerivedType]", () => (Vehicle)new Truck { Wheels = 6, Payload = 1.5m }),
        Faithful("plain class with public fields", () => new PlainFields { Count = 2, Label = "l" }),
        Faithful("record with a null in a nullable member", () => new Person("Ada", null)),
        Faithful("plain record (constructor parameters)", () => new PlainRecord("r", 2)),
        Faithful("plain class, constructor setting get-only properties", () => new PlainCtorBound("c", 3)),

        // Refused: no faithful JSON form
        Refused("[GenerateSerializer] derived in a base-typed member", () => (Animal)new Dog { Name = "rex", Barks = 3 },
            "it would be stored and read back as the base type; declare [JsonDerivedType]s on the base"),
        Refused("List<Animal> holding a Dog", () => new List<Animal> { new Dog { Name = "rex", Barks = 1 } },
            "it would be stored and read back as the base type; declare [JsonDerivedType]s on the base"),
        Refused("Dictionary<string, Animal> holding a Dog", () => new Dictionary<string, Animal> { ["rex"] = new Dog { Name = "rex" } },
            "it would be stored and read back as the base type; declare [JsonDerivedType]s on the base"),
        Refused("List<HashSet<string>> holding an OrdinalIgnoreCase set", () => new List<HashSet<string>> { new(StringComparer.OrdinalIgnoreCase) },
            "JSON has no place for the comparer"),
        Refused("Dictionary<string, int> (OrdinalIgnoreCase)", () => new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["alice"] = 1 },
            "JSON has no place for the comparer"),
        Refused("HashSet<string> (OrdinalIgnoreCase)", () => new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "alice" },
            "JSON has no place for the comparer"),
        Refused("SortedSet<int> (descending comparer)", () => new SortedSet<int>(Comparer<int>.Create((a, b) => b.CompareTo(a))) { 1, 2 },
            "JSON has no place for the comparer"),
        Refused("SortedDictionary<string, int> (OrdinalIgnoreCase)", () => new SortedDictionary<string, int>(StringComparer.OrdinalIgnoreCase) { ["a"] = 1 },
            "JSON has no place for the comparer"),
        Refused("ConcurrentDictionary<string, int> (OrdinalIgnoreCase)", () => new ConcurrentDictionary<string, int>(StringComparer.OrdinalIgnoreCase),
            "JSON has no place for the comparer"),
        Refused("ImmutableDictionary<string, int> (OrdinalIgnoreCase)", () => ImmutableDictionary.Create<string, int>(StringComparer.OrdinalIgnoreCase),
            "JSON has no place for the comparer"),
        Refused("IDictionary<string, int> holding an OrdinalIgnoreCase Dictionary", () => (IDictionary<string, int>)new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase),
            "JSON has no place for the comparer"),
        Refused("Dictionary<(int, int), string> (tuple keys)", () => new Dictionary<(int, int), string> { [(1, 2)] = "a" },
            "JSON property names cannot hold its keys; use simple keys or a converter for them"),
        Refused("Dictionary<(int, int), string> (tuple keys, empty)", () => new Dictionary<(int, int), string>(),
            "JSON property names cannot hold its keys; use simple keys or a converter for them"),
        Refused("Dictionary<Money, int> (record keys)", () => new Dictionary<Money, int>(),
            "JSON property names cannot hold its keys; use simple keys or a converter for them"),
        Refused("int[,] (multi-dimensional)", () => new int[,] { { 1, 2 }, { 3, 4 } },
            "JSON has no rectangular array; use a jagged array"),
        Refused("ReadOnlyCollection<int>", () => new ReadOnlyCollection<int>([1]),
            "System.Text.Json writes it but cannot read it back"),
        Refused("FrozenSet<int>", () => FrozenSet.ToFrozenSet([1]),
            "System.Text.Json writes it but cannot read it back"),
        Refused("BitArray", () => new BitArray(3),
            "System.Text.Json writes it but cannot read it back"),
        Refused("PriorityQueue<string, int>", () => new PriorityQueue<string, int>([("a", 1)]),
            "its comparer is an interface, and its items are not stored", member: "comparer", owner: "PriorityQueue`2"),
        Refused("StringBuilder", () => new System.Text.StringBuilder("text"),
            "its content is in fields no stored member holds", member: "m_ChunkChars", owner: "StringBuilder"),
        Refused("Lazy<int>", () => new Lazy<int>(() => 1),
            "its state is private: it would read back empty", member: "_state", owner: "Lazy`1"),
        Refused("TimeZoneInfo", () => TimeZoneInfo.Utc,
            "its state is private: it would read back empty", member: "_id", owner: "TimeZoneInfo"),
        Refused("plain class with private state only", () => new PrivateTally(),
            "its state is private: it would read back empty", member: "_count", owner: nameof(PrivateTally)),
        Refused("string with a lone surrogate", () => "a\uD800b",
            "JSON text cannot hold it (it would be stored as U+FFFD)"),
        Refused("Dictionary<string, int> with a lone surrogate in a key", () => new Dictionary<string, int> { ["a\uD800b"] = 1 },
            "JSON text cannot hold it (it would be stored as U+FFFD)"),
        Refused("object", () => (object)1,
            "it reads back as a JsonElement; give it a concrete type"),
        Refused("plain class, constructor parameter matching no member", () => new PlainCtorUnbound("ada"),
            "its constructor has a parameter no stored member feeds: it could not be read back", member: "who", owner: nameof(PlainCtorUnbound)),
        Refused("record with null in a non-nullable member", () => new Person(null!, "n"),
            "the type says it is never null", member: "Name", owner: nameof(Person)),
    ];

    public static CorpusEntry Get(string name) => Entries.Single(e => e.Name == name);

    public static TheoryData<string> Faithfuls => new(Entries.Where(e => e.Faithful).Select(e => e.Name));

    public static TheoryData<string> Refusals => new(Entries.Where(e => !e.Faithful).Select(e => e.Name));

    private static CorpusEntry Faithful<T>(string name, Func<T> value)
        => new(name, typeof(T), () => new Holder<T> { Value = value() }, Faithful: true, Reason: null, "value", "Holder`1");

    private static CorpusEntry Refused<T>(string name, Func<T> value, string reason, string member = "value", string owner = "Holder`1")
        => new(name, typeof(T), () => new Holder<T> { Value = value() }, Faithful: false, reason, member, owner);
}

/// <summary>One corpus type: how to make a holder of its value, and what the contract promises.</summary>
/// <param name="Member">The member a refusal must name.</param>
/// <param name="Owner">The type a refusal must name.</param>
public sealed record CorpusEntry(string Name, Type ValueType, Func<object> CreateHolder, bool Faithful, string? Reason, string Member, string Owner)
{
    public Type HolderType => typeof(Holder<>).MakeGenericType(ValueType);

    public override string ToString() => Name;
}
