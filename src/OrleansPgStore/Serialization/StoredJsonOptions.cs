using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using OrleansPgStore.Serialization.Converters;

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
        // Converters for values System.Text.Json (or jsonb) would otherwise store lossily; after the configured ones,
        // so a converter of the application's own still wins.
        options.Converters.Add(new ExactDoubleConverter());
        options.Converters.Add(new ExactSingleConverter());
        options.Converters.Add(new ExactHalfConverter());
        options.Converters.Add(new ExactDecimalConverter());
        options.Converters.Add(new BigIntegerConverter());
        options.Converters.Add(new ComplexConverter());
        options.Converters.Add(new LastInFirstOutConverterFactory());

        // Stored JSON is ours: two values for one member, or null where the type says never null, is corruption, not
        // evolution, so these hold even when StrictReads is off. (A null in a non-nullable member is refused on write too.)
        options.AllowDuplicateProperties = false;
        options.RespectNullableAnnotations = true;
        if (strictReads)
        {
            options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            options.RespectRequiredConstructorParameters = true;
            // A number stored as a string is not what we write (unless the configured options write numbers as strings).
            if ((options.NumberHandling & JsonNumberHandling.WriteAsString) == 0)
            {
                options.NumberHandling &= ~JsonNumberHandling.AllowReadingFromString;
            }
        }

        options.MakeReadOnly();
        return options;
    }
}
