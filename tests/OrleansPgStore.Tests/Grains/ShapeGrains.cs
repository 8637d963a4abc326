using Orleans.EventSourcing;

namespace OrleansPgStore.Tests.Grains;

public interface IFieldLogGrain : IGrainWithIntegerKey
{
    Task SetA(int value);

    Task<(int A, int Version)> Get();

    Task<IReadOnlyList<int>> History();
}

/// <summary>The shape of Orleans' LogTestGrain: [Id] fields in state and events, events of any type.</summary>
[GrainType("fieldlog")]
public sealed class FieldLogGrain : JournaledGrain<FieldState, object>, IFieldLogGrain
{
    public async Task SetA(int value)
    {
        RaiseEvent(new UpdateA { Val = value });
        await ConfirmEvents();
    }

    public Task<(int A, int Version)> Get() => Task.FromResult((State.A, Version));

    public async Task<IReadOnlyList<int>> History()
        => (await RetrieveConfirmedEvents(0, Version)).Cast<UpdateA>().Select(e => e.Val).ToList();
}

public interface IFieldStateGrain : IGrainWithStringKey
{
    Task Set(int a, int b, string reservation);

    Task<FieldState> Get();
}

/// <summary>A [PersistentState] grain whose state has [Id] fields only.</summary>
public sealed class FieldStateGrain([PersistentState("fields", TestClusters.Provider)] IPersistentState<FieldState> state)
    : Grain, IFieldStateGrain
{
    public Task Set(int a, int b, string reservation)
    {
        state.State.A = a;
        state.State.B = b;
        state.State.Reservations[reservation] = a + b;
        return state.WriteStateAsync();
    }

    public Task<FieldState> Get() => Task.FromResult(state.State);
}

/// <summary>A state System.Text.Json cannot store faithfully (a member typed object), like ChatGrain's XDocument.</summary>
[GenerateSerializer]
public sealed class NotesState
{
    [Id(0)]
    public List<string> Items { get; set; } = [];

    [Id(1)]
    public object? Cursor { get; set; }

    public void Apply(NotePosted e) => Items.Add(e.Text);
}

[GenerateSerializer, Alias("test.note-posted")]
public sealed class NotePosted
{
    [Id(0)]
    public string Text { get; set; } = "";
}

public interface INotesGrain : IGrainWithStringKey
{
    Task Post(string text);

    Task<string[]> Notes();
}

[GrainType("notes")]
public sealed class NotesGrain : JournaledGrain<NotesState, NotePosted>, INotesGrain
{
    public async Task Post(string text)
    {
        RaiseEvent(new NotePosted { Text = text });
        await ConfirmEvents();
    }

    public Task<string[]> Notes() => Task.FromResult(State.Items.ToArray());
}

public interface IUnstorableGrain : IGrainWithIntegerKey
{
    Task Raise();
}

/// <summary>Raises an event whose member is typed object, which the JSON contract refuses.</summary>
[GrainType("unstorable")]
public sealed class UnstorableGrain : JournaledGrain<FieldState, object>, IUnstorableGrain
{
    public async Task Raise()
    {
        RaiseEvent(new Untyped { Payload = 1 });
        await ConfirmEvents();
    }
}
