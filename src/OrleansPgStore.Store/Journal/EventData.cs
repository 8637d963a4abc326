using System.Text.Json;

namespace OrleansPgStore.Store.Journal;

/// <summary>An event to commit: a name, a JSON payload and an optional id that makes retries idempotent.</summary>
public sealed class EventData
{
    /// <summary>Creates the value.</summary>
    /// <param name="Name">See <see cref="Name"/>.</param>
    /// <param name="Json">See <see cref="Json"/>.</param>
    /// <param name="Id">See <see cref="Id"/>.</param>
    public EventData(string Name, string Json, Guid? Id = null)
    {
        this.Name = Name;
        this.Json = Json;
        this.Id = Id;
    }

    /// <summary>The event's name (its type, e.g. <c>Deposited</c>). Names starting with <c>$</c> are reserved.</summary>
    public string Name { get; }

    /// <summary>The payload as JSON text, stored as <c>jsonb</c> so it stays queryable in SQL.</summary>
    public string Json { get; }

    /// <summary>Optional id, unique within the stream. Committing a batch whose ids are already stored returns the stored events and appends nothing, so a retry after a lost connection never appends twice.</summary>
    public Guid? Id { get; }

    /// <summary>Serializes <paramref name="payload"/> with System.Text.Json into a new event.</summary>
    public static EventData From<T>(string name, T payload, JsonSerializerOptions? options = null, Guid? id = null)
        => new(name, JsonSerializer.Serialize(payload, options), id);
}
