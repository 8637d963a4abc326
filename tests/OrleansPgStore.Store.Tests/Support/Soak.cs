namespace OrleansPgStore.Store.Tests.Support;

/// <summary>
/// <c>ORLEANSPGSTORE_SOAK=N</c> scales the fault and fuzz tests up N times (more fuzz calls, more racing rounds, N
/// server restarts) for long runs before a release. Unset, every test runs at its quick default size; nothing is
/// ever skipped either way.
/// </summary>
public static class Soak
{
    public const string Variable = "ORLEANSPGSTORE_SOAK";

    public static int Factor { get; } =
        int.TryParse(Environment.GetEnvironmentVariable(Variable), out var factor) && factor > 1 ? factor : 1;
}
