namespace OrleansPgStore.Store.Reactions;

/// <summary>How a reaction loop claims and handles work. Every default suits a handful of workers sharing a database.</summary>
public sealed class ReactionOptions
{
    /// <summary>Names the group of workers sharing one correlation checkpoint (one per set of reactions). Defaults to <c>default</c>.</summary>
    public string Name { get; set; } = DefaultName;

    /// <summary>The default of <see cref="Name"/>.</summary>
    public const string DefaultName = "default";

    /// <summary>The lane this loop claims from. Defaults to the default lane.</summary>
    public string Lane { get; set; } = "";

    /// <summary>
    /// The most targets one cycle claims (each with up to <see cref="PageSize"/> events). A cycle claims every target with
    /// work up to this size: all there are when live, this many while catching up; fewer while the handlers are slow,
    /// so that a cycle's handling stays within a quarter of <see cref="LeaseDuration"/> (estimated from the cycles before;
    /// the first claim takes 8, the next ones four times as many). An eighth of each claim goes to the targets closest to the head (highest
    /// watermark), so live targets stay fresh while a backlog drains; the rest to the highest priority, then the lowest
    /// watermark. Defaults to 32.
    /// </summary>
    public int MaxClaim { get; set; } = 32;

    /// <summary>How long a claim holds a target. Handlers are cancelled when it runs out. Defaults to 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Events fetched per target per cycle. Defaults to 100.</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Claimed targets handled at the same time within one cycle. Defaults to 8.</summary>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>
    /// The most events the correlation step reads per cycle to find targets with new work (when live it reads what is
    /// new). A loop meeting a backlog reads four first claims of full pages first (4 × 8 × <see cref="PageSize"/>: 3,200
    /// events by default), so workers starting together all claim early, then four times as many per full page up to
    /// this; once caught up it starts small again. Large, so a catching-up loop discovers many targets per read; the events
    /// are read with their payloads when a reaction resolves its own targets, so lower it for very large events.
    /// Defaults to 10,000.
    /// </summary>
    public int CorrelationBatch { get; set; } = 10_000;

    /// <summary>
    /// Failed attempts a target may retry before it is blocked (attempts = 1 + this). A target whose retries are
    /// already used up when claimed (its handler kept overrunning the lease) is blocked before dispatch. Defaults to 5.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The wait before retrying a failed target. Defaults to exponential from 1 s to 5 min with ±20% jitter.</summary>
    public RetryBackoff Backoff { get; set; } = new();

    /// <summary>How often an idle worker polls when no notification wakes it. Defaults to 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long stopping a worker waits for its cycle in flight. Defaults to 10 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        Check(!string.IsNullOrEmpty(Name) && !Name.Contains('\0'), "Name must be a non-empty string.");
        Check(Lane is not null, "Lane must not be null.");
        Check(MaxClaim > 0, "MaxClaim must be positive.");
        Check(LeaseDuration > TimeSpan.Zero && LeaseDuration <= Leasing.LeaseStore.MaxDuration, "LeaseDuration must be positive and at most 365 days.");
        Check(PageSize > 0, "PageSize must be positive.");
        Check(MaxConcurrency > 0, "MaxConcurrency must be positive.");
        Check(CorrelationBatch > 0, "CorrelationBatch must be positive.");
        Check(MaxRetries >= 0, "MaxRetries must not be negative.");
        Check(Backoff is not null, "Backoff must not be null.");
        Check(PollInterval > TimeSpan.Zero, "PollInterval must be positive.");
    }

    /// <summary>A copy named <paramref name="name"/>, leaving these options (which a host may share) untouched.</summary>
    internal ReactionOptions WithName(string name)
    {
        var copy = (ReactionOptions)MemberwiseClone();
        copy.Name = name;
        return copy;
    }

    /// <summary>A copy claiming from <paramref name="lane"/>, leaving these options untouched.</summary>
    internal ReactionOptions WithLane(string lane)
    {
        var copy = (ReactionOptions)MemberwiseClone();
        copy.Lane = lane;
        return copy;
    }

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException("ReactionOptions." + message);
        }
    }
}
