using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>Small builders for test events.</summary>
public static class Events
{
    public static EventData Make(string name = "Happened", int value = 0, Guid? id = null)
        => new(name, $$"""{"value":{{value}}}""", id);

    public static EventData[] Many(int count, string name = "Happened")
        => Enumerable.Range(0, count).Select(i => Make(name, i)).ToArray();

    public static async Task<List<RecordedEvent>> ToListAsync(this IAsyncEnumerable<RecordedEvent> events)
    {
        var list = new List<RecordedEvent>();
        await foreach (var e in events)
        {
            list.Add(e);
        }

        return list;
    }
}
