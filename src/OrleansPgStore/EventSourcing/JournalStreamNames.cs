using Orleans.Runtime;

namespace OrleansPgStore.EventSourcing;

/// <summary>The journal stream a JournaledGrain's events are stored in.</summary>
public static class JournalStreamNames
{
    /// <summary>
    /// <c>{prefix}{grainType}/{grainKey}</c>: the prefix (empty by default) followed by
    /// <see cref="GrainId.ToString"/>, e.g. <c>account/42</c>-style names (integer keys appear in hex, Guid keys in
    /// format N, key extensions after <c>+</c>). Stable as long as the grain type name is: pin it with
    /// <c>[GrainType("…")]</c> before renaming a grain class.
    /// </summary>
    public static string For(GrainId grainId, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix + grainId.ToString();
    }
}
