namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// The statements of the retention turn: a row <c>retention:{events table}</c> in the checkpoints table
/// (<see cref="CheckpointSchema"/>) whose lease says who runs retention this interval and whose <c>resume_from</c>
/// keeps where the next run may resume.
/// </summary>
internal sealed class RetentionTurnSql(string checkpoints)
{
    /// <summary>$1 row, $2 holder, $3 interval milliseconds. Returns the resume point when the turn is ours.</summary>
    public string Take { get; } = $"""
        INSERT INTO {checkpoints} AS s (name, leased_by, leased_until)
        VALUES ($1, $2, now() + $3 * interval '1 millisecond')
        ON CONFLICT (name) DO UPDATE SET leased_by = excluded.leased_by, leased_until = excluded.leased_until
        WHERE s.leased_until IS NULL OR s.leased_until <= now()
        RETURNING s.resume_from
        """;

    /// <summary>$1 row, $2 holder, $3 resume point: kept for the next run; the lease runs on to the interval's end.</summary>
    public string Finish { get; } = $"UPDATE {checkpoints} SET resume_from = $3 WHERE name = $1 AND leased_by = $2";

    /// <summary>$1 row, $2 holder: a failed run hands the turn back so that the next silo's tick tries again.</summary>
    public string Release { get; } = $"UPDATE {checkpoints} SET leased_until = now() WHERE name = $1 AND leased_by = $2";
}
