using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OrleansPgStore.Serialization;

/// <summary>Builds the System.Text.Json settings events, snapshots and grain states are stored and read with.</summary>
internal static class StoredJsonOptions
{
    /// <summary>
    /// A read-only copy of <paramref name="configured"/> whose contracts keep every member Orleans would persist
    /// (<see cref="OrleansJsonContract"/>) and, with <paramref name="strictReads"/>, whose reads fail on a stored member
    /// the type does not know or a missing required member, except for the <paramref name="tolerantTypes"/>.
    /// </summary>
    public static JsonSerializerOptions Create(JsonSerializerOptions configured, bool strictReads, IEnumerable<Type> tolerantTypes)
    {
        ArgumentNullException.ThrowIfNull(configured);
        var tolerant = tolerantTypes.ToHashSet();
        var options = new JsonSerializerOptions(configured);
        options.TypeInfoResolver = (configured.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
            .WithAddedModifier(OrleansJsonContract.Modify)
            .WithAddedModifier(info =>
            {
                if (info.Kind == JsonTypeInfoKind.Object && tolerant.Contains(info.Type))
                {
                    info.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
                }
            });
        if (strictReads)
        {
            options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.RespectRequiredConstructorParameters = true;
        }

        options.MakeReadOnly();
        return options;
    }
}
