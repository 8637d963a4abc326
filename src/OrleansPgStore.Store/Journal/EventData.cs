using System.Text.Json;

namespace OrleansPgStore.Store.Journal;

/// <summary>An event to commit: a name, a JSON payload and an optional id that makes retries idempotent.</summary>
/// <param name="Name">The event's name (its type, e.g. <c>Deposited</c>). Names starting with <c>$</c> are reserved.</param>
/// <param name="Json">The payload as JSON text, stored as <c>jsonb</c> so it stays queryable in SQL.</param>
/// <param name="Id">
/// Optional id, unique within the stream. Committing a batch whose ids are already stored returns the stored
/// events and appends nothing, so a retry after a lost connection never appends twice.
/// </param>
public sealed record EventData(string Name, string Json, Guid? Id = null)
{
    /// <summary>Serializes <paramref name="payload"/> with System.Text.Json into a new event.</summary>
    public static EventData From<T>(string name, T payload, JsonSerializerOptions? options = null, Guid? id = null)
        => new(name, JsonSerializer.Serialize(payload, options), id);
}
