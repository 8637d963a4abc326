namespace OrleansPgStore.TestSupport;

/// <summary>
/// Waits for something to happen within a generous deadline; a deadline, never a timing assertion. For what tests assume
/// background work (snapshot saves, reactions) has finished: wait for it instead.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"gave up waiting until {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? patience = null)
        => WaitAsync(() => Task.FromResult(condition()), what, patience);
}
