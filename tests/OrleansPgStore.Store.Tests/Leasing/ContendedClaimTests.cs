using Npgsql;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

/// <summary>
/// A claim that comes back empty says why: <see cref="ClaimedLeases.Contended"/> is true exactly when there were
/// claimable targets and other claims or reports held every one of them (workers claiming at the same instant see the
/// same candidates), so the loop looks again in a moment; false when there was simply nothing to claim.
/// </summary>
public sealed class ContendedClaimTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static WorkMark Work(string stream, long position) => new(new Subscription(stream, stream), position);

    /// <summary>
    /// Targets with work, how many of them another transaction holds locked, the claim's size: whether the claim gets
    /// leases, and whether an empty claim is contended.
    /// </summary>
    [Theory]
    [InlineData(0, 0, 4, 0, false)]   // nothing to claim: empty, not contended (the negative control)
    [InlineData(1, 1, 4, 0, true)]    // the only target locked by another claim
    [InlineData(3, 3, 4, 0, true)]    // every target locked
    [InlineData(3, 2, 4, 1, false)]   // one of three free: claimed, so not contended
    [InlineData(8, 2, 2, 0, true)]    // the candidates (the two lowest watermarks) locked, the rest beyond the claim's size
    [InlineData(8, 0, 2, 2, false)]   // nothing locked: a full claim
    public async Task An_empty_claim_is_contended_only_when_other_claims_held_its_candidates(
        int targets, int locked, int size, int expectedLeases, bool expectedContended)
    {
        var table = $"cc_{targets}_{locked}_{size}";
        await using var leases = await db.LeasesAsync(table);
        // Target i's watermark is i - 1: lower i is further behind, so the claim's candidates are the lowest ones.
        await leases.RaiseWorkAsync([.. Enumerable.Range(0, targets).Select(i => Work($"t{i}", i + 10))]);
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".{table} SET at = substr(stream, 2)::bigint - 1 WHERE stream LIKE 't%'");

        await using var other = new NpgsqlConnection(db.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var lockRows = new NpgsqlCommand(
            $"SELECT 1 FROM \"{db.Name}\".{table} WHERE stream = ANY($1) FOR UPDATE", other, transaction))
        {
            lockRows.Parameters.AddWithValue(Enumerable.Range(0, locked).Select(i => $"t{i}").ToArray());
            await lockRows.ExecuteNonQueryAsync();
        }

        var claimed = await leases.ClaimAsync(size, 0, "w", Long);
        Assert.Equal((expectedLeases, expectedContended), (claimed.Count, claimed.Contended));
        Assert.DoesNotContain(claimed, l => int.Parse(l.Stream[1..]) < locked);

        // Once the other transaction ends, the held targets are claimable again: the contention was real work left.
        await transaction.RollbackAsync();
        if (locked > 0)
        {
            var after = await leases.ClaimAsync(locked, 0, "v", Long);
            Assert.Equal(Enumerable.Range(0, locked).Select(i => $"t{i}"), after.Select(l => l.Stream).Order());
            Assert.False(after.Contended);
        }
    }

    [Fact]
    public async Task A_claim_racing_a_committed_claim_for_the_same_candidates_is_contended()
    {
        await using var leases = await db.LeasesAsync("cc_race");
        await leases.RaiseWorkAsync([Work("a", 1), Work("b", 1)]);

        // Another claim has leased both candidates and not committed yet (what a claim at the same instant does).
        await using var other = new NpgsqlConnection(db.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var lease = new NpgsqlCommand(
            $"UPDATE \"{db.Name}\".cc_race SET leased_by = 'v', leased_until = now() + interval '5 minutes'", other, transaction))
        {
            await lease.ExecuteNonQueryAsync();
        }

        var claimed = await leases.ClaimAsync(2, 0, "w", Long);
        Assert.Equal((0, true), (claimed.Count, claimed.Contended));
        await transaction.CommitAsync();

        // With the other holder's leases committed, the targets are not claimable: empty and not contended.
        claimed = await leases.ClaimAsync(2, 0, "w", Long);
        Assert.Equal((0, false), (claimed.Count, claimed.Contended));
    }
}
