using System.Text.Json;

namespace OrleansPgStore.Store.State;

/// <summary>A stored state.</summary>
/// <param name="PersistenceId">The state's key.</param>
/// <param name="Revision">Its revision: 1 after the first write, +1 with every write after that.</param>
/// <param name="Json">The state as JSON text.</param>
/// <param name="UpdatedAt">When it was last written (the database's clock).</param>
public sealed record DurableStateRecord(string PersistenceId, long Revision, string Json, DateTimeOffset UpdatedAt)
{
    /// <summary>Deserializes the state with System.Text.Json.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Json, options);
}
