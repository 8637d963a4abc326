using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

// JournaledGrain states whose members JSON snapshots used to lose. The events carry only ints and strings, and Apply
// builds the rich members from them deterministically, so snapshots are tested apart from the events' JSON.

/// <summary>The repro: a named tuple member.</summary>
[GenerateSerializer]
public sealed class PositionState
{
    [Id(0)]
    public (int X, int Y) Pos;

    [Id(1)]
    public int Moves;

    [Id(2)]
    public int Waits;

    public void Apply(PositionMoved e)
    {
        Pos = (e.X, e.Y);
        Moves++;
    }

    public void Apply(PositionWaited e) => Waits++;
}

[GenerateSerializer]
public abstract class PositionEvent;

[GenerateSerializer, Alias("test.moved")]
public sealed class PositionMoved : PositionEvent
{
    [Id(0)]
    public int X;

    [Id(1)]
    public int Y;
}

[GenerateSerializer, Alias("test.waited")]
public sealed class PositionWaited : PositionEvent;

public interface IPositionGrain : IGrainWithStringKey
{
    Task Move(int x, int y);

    Task Wait();

    Task<(int X, int Y, int Moves, int Waits, int Version)> Get();
}

/// <summary>Snapshots every 2 events in the tests that use it.</summary>
[GrainType("position")]
public sealed class PositionGrain : JournaledGrain<PositionState, PositionEvent>, IPositionGrain
{
    public async Task Move(int x, int y)
    {
        RaiseEvent(new PositionMoved { X = x, Y = y });
        await ConfirmEvents();
    }

    public async Task Wait()
    {
        RaiseEvent(new PositionWaited());
        await ConfirmEvents();
    }

    public Task<(int X, int Y, int Moves, int Waits, int Version)> Get()
        => Task.FromResult((State.Pos.X, State.Pos.Y, State.Moves, State.Waits, Version));
}

[Flags]
public enum CorpusAccess
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 4,
}

[GenerateSerializer]
public sealed record CorpusAddress([property: Id(0)] string Street, [property: Id(1)] int? Floor);

[GenerateSerializer]
public sealed record CorpusCustomer([property: Id(0)] string Name, [property: Id(1)] CorpusAddress Address, [property: Id(2)] List<CorpusAddress> Previous);

[GenerateSerializer]
public abstract class CorpusShape
{
    [Id(0)]
    public string Name { get; set; } = "";

    public abstract string Describe();
}

[GenerateSerializer]
public sealed class CorpusCircle : CorpusShape
{
    [Id(0)]
    public double Radius { get; set; }

    public override string Describe() => $"circle {Name} r={BitConverter.DoubleToInt64Bits(Radius):x}";
}

[GenerateSerializer]
public sealed class CorpusSquare : CorpusShape
{
    [Id(0)]
    public int Side { get; set; }

    public override string Describe() => $"square {Name} s={Side}";
}

/// <summary>One step: its number (1, 2, …) and a text; Apply derives every member from them.</summary>
[GenerateSerializer, Alias("test.corpus-step")]
public sealed class CorpusStep
{
    [Id(0)]
    public int N;

    [Id(1)]
    public string Text = "";
}

/// <summary>A state with a member of each type of the corpus (issue 15).</summary>
[GenerateSerializer]
public sealed class SnapshotCorpusState
{
    private static readonly BigInteger Large = BigInteger.Parse("123456789012345678901234567890", CultureInfo.InvariantCulture);

    [Id(0)] public (int Count, string Label) Named;
    [Id(1)] public (int, string, double) Unnamed;
    [Id(2)] public Tuple<int, string>? Pair;
    [Id(3)] public BigInteger Big;
    [Id(4)] public Complex Complex;
    [Id(5)] public Vector2 V2;
    [Id(6)] public Vector3 V3;
    [Id(7)] public Vector4 V4;
    [Id(8)] public Half Half;
    [Id(9)] public Int128 Huge;
    [Id(10)] public DateOnly Day;
    [Id(11)] public TimeOnly Time;
    [Id(12)] public TimeSpan Span;
    [Id(13)] public DateTimeOffset Offset;
    [Id(14)] public DateTime Utc;
    [Id(15)] public DateTime Local;
    [Id(16)] public DateTime Unspecified;
    [Id(17)] public decimal Price;
    [Id(18)] public double NegativeZero;
    [Id(19)] public double NotANumber;
    [Id(20)] public double PositiveInfinity;
    [Id(21)] public float NegativeInfinity;
    [Id(22)] public Uri? Link;
    [Id(23)] public Version? Release;
    [Id(24)] public Stack<int> Stack = new();
    [Id(25)] public Queue<string> Queue = new();
    [Id(26)] public ImmutableStack<int> ImmutableStack = [];
    [Id(27)] public ConcurrentStack<int> ConcurrentStack = new();
    [Id(28)] public ConcurrentQueue<int> ConcurrentQueue = new();
    [Id(29)] public SortedDictionary<string, int> Sorted = new(StringComparer.OrdinalIgnoreCase);
    [Id(30)] public SortedSet<int> SortedSet = [];
    [Id(31)] public ImmutableSortedDictionary<string, int> ImmutableSorted = ImmutableSortedDictionary<string, int>.Empty;
    [Id(32)] public LinkedList<string> Linked = new();
    [Id(33)] public int[][] Jagged = [];
    [Id(34)] public int[,] Grid = new int[0, 0];
    [Id(35)] public CorpusAccess Access;
    [Id(36)] public Dictionary<string, int> Names = new(StringComparer.OrdinalIgnoreCase);
    [Id(37)] public HashSet<string> Tags = new(StringComparer.OrdinalIgnoreCase);
    [Id(38)] public CorpusCustomer? Customer;
    [Id(39)] public CorpusShape? Shape;
    [Id(40)] public List<CorpusShape> Shapes = [];
    [Id(41)] public int Steps;

    public void Apply(CorpusStep e)
    {
        var n = e.N;
        Steps++;
        Named = (n, e.Text);
        Unnamed = (n, e.Text + "!", n / 3.0);
        Pair = Tuple.Create(n, e.Text);
        Big = Large * n * (n % 2 == 0 ? -1 : 1);
        Complex = new Complex(n, -n / 7.0);
        V2 = new Vector2(n, 0.1f * n);
        V3 = new Vector3(n, -n, 1f / 3);
        V4 = new Vector4(n, n + 1, float.Epsilon, -0f);
        Half = (Half)(n / 3.0);
        Huge = Int128.MaxValue - n;
        Day = new DateOnly(2024, 2, 29).AddDays(n);
        Time = new TimeOnly(23, 59, 59, 999).Add(TimeSpan.FromTicks(n));
        Span = TimeSpan.FromTicks(-1_234_567L * n);
        Offset = new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.FromMinutes(330)).AddTicks(n);
        Utc = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(n);
        Local = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Local).AddTicks(n);
        Unspecified = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Unspecified).AddTicks(n);
        Price = decimal.Parse($"{n}.10", CultureInfo.InvariantCulture);
        NegativeZero = -0.0;
        NotANumber = double.NaN;
        PositiveInfinity = double.PositiveInfinity;
        NegativeInfinity = float.NegativeInfinity;
        Link = new Uri($"https://example.org/a%20b/{e.Text}?q={n}#part");
        Release = n % 2 == 0 ? new Version(1, n) : new Version(1, 2, n, 4);
        Stack.Push(n);
        Queue.Enqueue(e.Text);
        ImmutableStack = ImmutableStack.Push(n * 10);
        ConcurrentStack.Push(n * 100);
        ConcurrentQueue.Enqueue(n * 1000);
        Sorted[e.Text] = n;
        SortedSet.Add((n * 7 % 5) - n);
        ImmutableSorted = ImmutableSorted.SetItem(e.Text, -n);
        if (n % 2 == 0)
        {
            Linked.AddFirst(e.Text);
        }
        else
        {
            Linked.AddLast(e.Text);
        }

        Jagged = [.. Jagged, Enumerable.Range(n, n).ToArray()];
        Grid = new int[n, 2];
        for (var i = 0; i < n; i++)
        {
            Grid[i, 0] = i;
            Grid[i, 1] = -i * n;
        }

        Access |= (CorpusAccess)(1 << (n % 3));
        Names[e.Text] = n;
        Tags.Add(e.Text);
        Customer = new CorpusCustomer(
            e.Text, new CorpusAddress($"{n} Main St", n % 2 == 0 ? null : n), [.. Customer?.Previous ?? [], new CorpusAddress($"old {n}", -n)]);
        CorpusShape shape = n % 2 == 0 ? new CorpusCircle { Name = e.Text, Radius = n / 3.0 } : new CorpusSquare { Name = e.Text, Side = n };
        Shape = shape;
        Shapes.Add(shape);
    }

    /// <summary>
    /// Every member as text that tells apart what a lossy copy would change: order, bit patterns (-0.0, NaN), decimal
    /// scale, DateTime kinds, offsets, runtime types, and how the comparers compare (e.g. "alice" vs "ALICE").
    /// </summary>
    public static IReadOnlyList<(string Member, string Value)> Describe(SnapshotCorpusState s) =>
    [
        (nameof(Named), $"{s.Named.Count}|{s.Named.Label}"),
        (nameof(Unnamed), $"{s.Unnamed.Item1}|{s.Unnamed.Item2}|{Bits(s.Unnamed.Item3)}"),
        (nameof(Pair), s.Pair is null ? "null" : $"{s.Pair.GetType()}|{s.Pair.Item1}|{s.Pair.Item2}"),
        (nameof(Big), s.Big.ToString(CultureInfo.InvariantCulture)),
        (nameof(Complex), $"{Bits(s.Complex.Real)}|{Bits(s.Complex.Imaginary)}"),
        (nameof(V2), $"{Bits(s.V2.X)}|{Bits(s.V2.Y)}"),
        (nameof(V3), $"{Bits(s.V3.X)}|{Bits(s.V3.Y)}|{Bits(s.V3.Z)}"),
        (nameof(V4), $"{Bits(s.V4.X)}|{Bits(s.V4.Y)}|{Bits(s.V4.Z)}|{Bits(s.V4.W)}"),
        (nameof(Half), BitConverter.HalfToInt16Bits(s.Half).ToString("x", CultureInfo.InvariantCulture)),
        (nameof(Huge), s.Huge.ToString(CultureInfo.InvariantCulture)),
        (nameof(Day), s.Day.DayNumber.ToString(CultureInfo.InvariantCulture)),
        (nameof(Time), s.Time.Ticks.ToString(CultureInfo.InvariantCulture)),
        (nameof(Span), s.Span.Ticks.ToString(CultureInfo.InvariantCulture)),
        (nameof(Offset), $"{s.Offset.Ticks}|{s.Offset.Offset}"),
        (nameof(Utc), $"{s.Utc.Ticks}|{s.Utc.Kind}"),
        (nameof(Local), $"{s.Local.Ticks}|{s.Local.Kind}"),
        (nameof(Unspecified), $"{s.Unspecified.Ticks}|{s.Unspecified.Kind}"),
        (nameof(Price), s.Price.ToString(CultureInfo.InvariantCulture) + "|scale " + s.Price.Scale),
        (nameof(NegativeZero), Bits(s.NegativeZero)),
        (nameof(NotANumber), Bits(s.NotANumber)),
        (nameof(PositiveInfinity), Bits(s.PositiveInfinity)),
        (nameof(NegativeInfinity), Bits(s.NegativeInfinity)),
        (nameof(Link), s.Link is null ? "null" : $"{s.Link.OriginalString}|{s.Link.IsAbsoluteUri}"),
        (nameof(Release), s.Release is null ? "null" : $"{s.Release}|{s.Release.Build}|{s.Release.Revision}"),
        (nameof(Stack), Join(s.Stack)),
        (nameof(Queue), Join(s.Queue)),
        (nameof(ImmutableStack), Join(s.ImmutableStack)),
        (nameof(ConcurrentStack), Join(s.ConcurrentStack)),
        (nameof(ConcurrentQueue), Join(s.ConcurrentQueue)),
        (nameof(Sorted), Join(s.Sorted) + "|" + Behaviour(s.Sorted.Comparer, s.Sorted.Keys)),
        (nameof(SortedSet), Join(s.SortedSet)),
        (nameof(ImmutableSorted), Join(s.ImmutableSorted) + "|" + Behaviour(s.ImmutableSorted.KeyComparer, s.ImmutableSorted.Keys)),
        (nameof(Linked), Join(s.Linked)),
        (nameof(Jagged), string.Join(";", s.Jagged.Select(Join))),
        (nameof(Grid), $"{s.Grid.GetLength(0)}x{s.Grid.GetLength(1)}:{Join(s.Grid.Cast<int>())}"),
        (nameof(Access), s.Access.ToString()),
        (nameof(Names), Join(s.Names) + "|" + string.Join(",", s.Names.Keys.Select(k => s.Names.ContainsKey(k.ToUpperInvariant())))),
        (nameof(Tags), Join(s.Tags) + "|" + string.Join(",", s.Tags.Select(t => s.Tags.Contains(t.ToUpperInvariant())))),
        (nameof(Customer), s.Customer is null ? "null" : $"{s.Customer.Name}|{s.Customer.Address}|{Join(s.Customer.Previous)}"),
        (nameof(Shape), s.Shape?.Describe() ?? "null"),
        (nameof(Shapes), string.Join(";", s.Shapes.Select(x => x.Describe()))),
        (nameof(Steps), s.Steps.ToString(CultureInfo.InvariantCulture)),
    ];

    private static string Bits(double value) => BitConverter.DoubleToInt64Bits(value).ToString("x", CultureInfo.InvariantCulture);

    private static string Bits(float value) => BitConverter.SingleToInt32Bits(value).ToString("x", CultureInfo.InvariantCulture);

    private static string Join<T>(IEnumerable<T> items) => "[" + string.Join(",", items) + "]";

    private static string Behaviour(IComparer<string> comparer, IEnumerable<string> keys)
        => string.Join(",", keys.Select(k => comparer.Compare(k, k.ToUpperInvariant())));
}

public interface ICorpusGrain : IGrainWithStringKey
{
    Task Step(int n, string text);

    Task<SnapshotCorpusState> Get();

    Task<int> Version();
}

public interface ISnapshottedCorpusGrain : ICorpusGrain;

public interface IReplayedCorpusGrain : ICorpusGrain;

public abstract class CorpusGrain : JournaledGrain<SnapshotCorpusState, CorpusStep>, ICorpusGrain
{
    public async Task Step(int n, string text)
    {
        RaiseEvent(new CorpusStep { N = n, Text = text });
        await ConfirmEvents();
    }

    public Task<SnapshotCorpusState> Get() => Task.FromResult(State);

    Task<int> ICorpusGrain.Version() => Task.FromResult(Version);
}

/// <summary>Snapshots every 2 events in the tests that use it.</summary>
[GrainType("corpus-snapshotted")]
public sealed class SnapshottedCorpusGrain : CorpusGrain, ISnapshottedCorpusGrain;

/// <summary>Snapshots off in the tests that use it: every activation replays all events.</summary>
[GrainType("corpus-replayed")]
public sealed class ReplayedCorpusGrain : CorpusGrain, IReplayedCorpusGrain;

/// <summary>A member type Orleans can copy (a plain struct) but has no codec for, so the state cannot be snapshotted.</summary>
public readonly record struct Meters(double Value);

[GenerateSerializer]
public sealed class OdometerState
{
    [Id(0)]
    public Meters Total;

    [Id(1)]
    public int Trips;

    public void Apply(PositionMoved e)
    {
        Total = new Meters(Total.Value + Math.Abs(e.X) + Math.Abs(e.Y));
        Trips++;
    }
}

public interface IOdometerGrain : IGrainWithStringKey
{
    Task Drive(int x, int y);

    Task<(double Total, int Trips)> Get();
}

[GrainType("odometer")]
public sealed class OdometerGrain : JournaledGrain<OdometerState, PositionEvent>, IOdometerGrain
{
    public async Task Drive(int x, int y)
    {
        RaiseEvent(new PositionMoved { X = x, Y = y });
        await ConfirmEvents();
    }

    public Task<(double Total, int Trips)> Get() => Task.FromResult((State.Total.Value, State.Trips));
}
