using System.Text.Json;

namespace OrleansPgStore.Store.State;

/// <summary>A stored state.</summary>
public sealed class DurableStateRecord
{
    /// <summary>Creates the value.</summary>
    /// <param name="PersistenceId">See <see cref="PersistenceId"/>.</param>
    /// <param name="Revision">See <see cref="Revision"/>.</param>
    /// <param name="Json">See <see cref="Json"/>.</param>
    /// <param name="UpdatedAt">See <see cref="UpdatedAt"/>.</param>
    public DurableStateRecord(string PersistenceId, long Revision, string Json, DateTimeOffset UpdatedAt)
    {
        this.PersistenceId = PersistenceId;
        this.Revision = Revision;
        this.Json = Json;
        this.UpdatedAt = UpdatedAt;
    }

    /// <summary>The state's key.</summary>
    public string PersistenceId { get; }

    /// <summary>Its revision: 1 after the first write, +1 with every write after that.</summary>
    public long Revision { get; }

    /// <summary>The state as JSON text.</summary>
    public string Json { get; }

    /// <summary>When it was last written (the database's clock).</summary>
    public DateTimeOffset UpdatedAt { get; }

    /// <summary>Deserializes the state with System.Text.Json.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Json, options);
}
