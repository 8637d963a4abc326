using Orleans.Runtime;

namespace OrleansPgStore.EventSourcing;

/// <summary>The journal stream a JournaledGrain's events are stored in.</summary>
internal static class JournalStreamNames
{
    /// <summary>
    /// <c>{prefix}{grainType}/{grainKey}</c>: the prefix (empty by default) followed by <see cref="GrainId.ToString"/>,
    /// e.g. <c>account/alice</c> for a string key, <c>counter/2A</c> for the integer key 42 (upper-case hex), a Guid in
    /// format N, and a key extension after <c>+</c>. Stable as long as the grain type name is: pin it with
    /// <c>[GrainType("…")]</c> before renaming a grain class.
    /// </summary>
    public static string For(GrainId grainId, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix + grainId.ToString();
    }
}
