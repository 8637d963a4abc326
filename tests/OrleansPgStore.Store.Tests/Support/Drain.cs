using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Support;

internal static class Drain
{
    /// <summary>Runs cycles until two in a row find nothing to do (a settling feed is not idle: it looks again).</summary>
    public static async Task UntilIdleAsync(this ReactionLoop loop)
    {
        var deadline = DateTime.UtcNow + Eventually.Patience;
        for (var idle = 0; idle < 2;)
        {
            Assert.True(DateTime.UtcNow < deadline, $"loop {loop.Holder} never went idle");
            var result = await loop.RunCycleAsync();
            idle = result.Idle && !result.Settling ? idle + 1 : 0;
        }
    }
}
