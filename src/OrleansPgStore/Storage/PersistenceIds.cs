using System.Text;
using Orleans.Runtime;

namespace OrleansPgStore.Storage;

/// <summary>The key of a grain state in the durable-state table.</summary>
public static class PersistenceIds
{
    /// <summary>
    /// <c>{serviceId}/{stateName}/{grainType}/{grainKey}</c>, where service id, state name and grain type have
    /// <c>%</c> and <c>/</c> percent-encoded so that only the key (last) may contain slashes. Each part takes part in
    /// the key, so two services, two states of a grain, or two grain types with equal keys never share a row.
    /// </summary>
    public static string For(string serviceId, string stateName, GrainId grainId)
    {
        ArgumentNullException.ThrowIfNull(serviceId);
        ArgumentNullException.ThrowIfNull(stateName);
        return new StringBuilder()
            .Append(Escape(serviceId)).Append('/')
            .Append(Escape(stateName)).Append('/')
            .Append(Escape(grainId.Type.ToString()!)).Append('/')
            .Append(grainId.Key.ToString())
            .ToString();
    }

    private static string Escape(string part)
        => part.Replace("%", "%25", StringComparison.Ordinal).Replace("/", "%2F", StringComparison.Ordinal);
}
