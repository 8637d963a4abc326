namespace OrleansPgStore.TestSupport;

/// <summary>
/// Waits for something to happen within a generous deadline; a deadline, never a timing assertion. For what tests assume
/// background work (snapshot saves, reactions) has finished: wait for it instead. Every polling helper of the test
/// projects is one of these, so one patience and one failure message shape serve them all.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan DefaultPollEvery = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/>.</summary>
    /// <param name="pollEvery">Longer for conditions that are costly to check (several processes polling at once).</param>
    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? patience = null, TimeSpan? pollEvery = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"gave up waiting until {what}");
            }

            await Task.Delay(pollEvery ?? DefaultPollEvery);
        }
    }

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? patience = null, TimeSpan? pollEvery = null)
        => WaitAsync(() => Task.FromResult(condition()), what, patience, pollEvery);

    /// <summary>Polls <paramref name="probe"/> until it returns exactly <paramref name="expected"/>; the failure names the last value.</summary>
    public static Task EqualAsync(Func<Task<long>> probe, long expected, string what, TimeSpan? patience = null)
        => UntilAsync(probe, value => value == expected, value => $"{what}: still {value}, expected {expected}", patience);

    /// <summary>Polls <paramref name="probe"/> until it returns at least <paramref name="atLeast"/>; the failure names the last value.</summary>
    public static Task AtLeastAsync(Func<Task<long>> probe, long atLeast, string what, TimeSpan? patience = null)
        => UntilAsync(probe, value => value >= atLeast, value => $"{what}: only {value} of {atLeast}", patience);

    private static async Task UntilAsync(Func<Task<long>> probe, Func<long, bool> done, Func<long, string> failure, TimeSpan? patience)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        long value;
        while (!done(value = await probe()))
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"gave up waiting: {failure(value)}");
            }

            await Task.Delay(DefaultPollEvery);
        }
    }
}
