using Orleans.Storage;
using OrleansPgStore.Storage;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Storage;

/// <summary>[PersistentState] grains on the journal registration's grain storage, across activations.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PersistentStateGrainTests(ClusterFixture fixture)
{
    private static string Key() => Guid.NewGuid().ToString("N");

    private string PersistenceId(string grainType, string key)
        => PersistenceIds.For(fixture.Cluster.Options.ServiceId, "profile", GrainId.Create(grainType, key));

    [Fact]
    public async Task State_survives_deactivation_with_its_etag()
    {
        var profile = fixture.Client.GetGrain<IProfileGrain>(Key());
        await profile.Visit("Ada");
        await profile.Visit("Ada Lovelace");

        await fixture.Cluster.DeactivateAsync(profile);

        Assert.Equal(new ProfileView("Ada Lovelace", 2, "2", RecordExists: true), await profile.Get());
    }

    [Fact]
    public async Task A_new_grain_reads_no_record_and_a_default_state()
    {
        var view = await fixture.Client.GetGrain<IProfileGrain>(Key()).Get();

        Assert.Equal(new ProfileView(null, 0, null, RecordExists: false), view);
    }

    [Fact]
    public async Task Clear_deletes_the_row()
    {
        var key = Key();
        var profile = fixture.Client.GetGrain<IProfileGrain>(key);
        await profile.Visit("Grace");

        await profile.Clear();

        Assert.Equal(new ProfileView(null, 0, null, RecordExists: false), await profile.Get());
        Assert.Equal(0L, await fixture.ScalarAsync<long>(
            "SELECT count(*) FROM {schema}.durable_state WHERE persistence_id = @id", ("id", PersistenceId("profile", key))));
        await fixture.Cluster.DeactivateAsync(profile);
        await profile.Visit("Grace again");
        Assert.Equal(new ProfileView("Grace again", 1, "1", RecordExists: true), await profile.Get());
    }

    [Fact]
    public async Task Two_grain_types_with_equal_keys_and_state_names_keep_separate_rows()
    {
        var key = Key();
        await fixture.Client.GetGrain<IProfileGrain>(key).Visit("profile");
        await fixture.Client.GetGrain<IOtherProfileGrain>(key).Visit("other");
        await fixture.Client.GetGrain<IOtherProfileGrain>(key).Visit("other");

        Assert.Equal(new ProfileView("profile", 1, "1", true), await fixture.Client.GetGrain<IProfileGrain>(key).Get());
        Assert.Equal(new ProfileView("other", 2, "2", true), await fixture.Client.GetGrain<IOtherProfileGrain>(key).Get());
        Assert.Equal(2L, await fixture.ScalarAsync<long>(
            "SELECT count(*) FROM {schema}.durable_state WHERE persistence_id IN (@a, @b)",
            ("a", PersistenceId("profile", key)), ("b", PersistenceId("other-profile", key))));
    }

    [Fact]
    public async Task A_write_over_a_row_changed_behind_the_grains_back_fails_and_the_next_activation_reloads()
    {
        var key = Key();
        var profile = fixture.Client.GetGrain<IProfileGrain>(key);
        await profile.Visit("first");
        // Another writer (a second activation, a migration script) moves the row on.
        await fixture.ExecuteAsync(
            $"UPDATE {{schema}}.durable_state SET revision = revision + 1, state = jsonb_set(state, '{{visits}}', '10') WHERE persistence_id = '{PersistenceId("profile", key)}'");

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => profile.Visit("second"));
        Assert.Contains("ETag=1", e.Message);

        // The runtime deactivated the stale activation: the next call reads the current row.
        await fixture.Cluster.DeactivateAsync(profile);
        Assert.Equal(new ProfileView("first", 10, "2", true), await profile.Get());
    }
}
