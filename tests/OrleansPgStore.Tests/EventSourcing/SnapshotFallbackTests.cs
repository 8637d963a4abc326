using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// A snapshot that cannot be read never yields a wrong state: while the events it covers are stored, the state is
/// rebuilt from them (with a Warning) and the snapshot replaced; once they are gone, only a snapshot in the JSON format
/// of earlier versions is still read (as those versions did, with a Warning); anything else fails the activation.
/// </summary>
public sealed class SnapshotFallbackTests
{
    // Written by earlier versions: the state as JSON. Its balance is not the events' 7, so a read of it shows.
    private const string LegacySnapshot = """{"grainVersion": 7, "state": {"balance": 1000, "memos": ["legacy"], "notes": []}}""";

    [Fact]
    public async Task An_unreadable_snapshot_is_rebuilt_from_its_events_replaced_and_reported_with_a_warning()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapshots");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var table = $"\"{schema.Name}\".events";
        var bogus = new Dictionary<string, string>
        {
            ["legacy"] = $"'{LegacySnapshot}'::jsonb",
            ["legacy-again"] = $"'{LegacySnapshot}'::jsonb",
            ["corrupt-bytes"] = "jsonb_set(data, '{state}', '\"AAECAwQFBgc=\"')",
            ["trailing-bytes"] = "jsonb_set(data, '{state}', to_jsonb(translate(encode(decode(data->>'state', 'base64') || '\\x00'::bytea, 'base64'), E'\\n', '')))",
            ["other-type"] = "jsonb_set(data, '{type}', '\"Elsewhere.OtherState,Elsewhere\"')",
            ["other-format"] = "jsonb_set(data, '{format}', '\"protobuf\"')",
            ["no-grain-version"] = "'{\"format\": \"orleans\", \"state\": \"AA==\"}'::jsonb",
            ["not-an-object"] = "'[1, 2]'::jsonb",
        };
        foreach (var (key, payload) in bogus)
        {
            await WriteHistoryAsync(cluster, schema, key);
            Assert.Equal(1L, await schema.ScalarAsync<long>(
                $"WITH u AS (UPDATE {table} SET data = {payload} WHERE stream = 'account/{key}' AND snapshot RETURNING 1) SELECT count(*) FROM u"));
        }

        foreach (var key in bogus.Keys)
        {
            var view = await cluster.Client.GetGrain<IAccountGrain>(key).Get();
            Assert.Equal((7m, 7, 7), (view.Balance, view.Version, view.Memos.Count));
            // Replaced in the background by a readable snapshot at the same version.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await schema.ScalarAsync<long>(
                $"SELECT count(*) FROM {table} WHERE stream = 'account/{key}' AND snapshot AND version = 6 AND data->>'type' IS NOT NULL " +
                "AND data->>'format' = 'orleans' AND length(data->>'state') > 8 AND data->>'state' !~ '^AAECAwQFBgc='") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"The snapshot of account/{key} was not replaced.");
                await Task.Delay(20);
            }
        }

        var warnings = capture.Messages.Where(m => m.Contains("rebuilt that state from its events", StringComparison.Ordinal)).ToList();
        Assert.All(warnings, w => Assert.StartsWith("Warning", w, StringComparison.Ordinal));
        // Each unreadable snapshot is reported; the JSON format of earlier versions, expected after an upgrade, once per grain type.
        foreach (var key in bogus.Keys.Where(k => !k.StartsWith("legacy", StringComparison.Ordinal)))
        {
            Assert.Single(warnings, w => w.Contains($"account/{key} ", StringComparison.Ordinal));
        }

        Assert.Single(warnings, w => w.Contains("account/legacy", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("Elsewhere.OtherState", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("byte(s) follow the serialized state", StringComparison.Ordinal));

        // The replacements are read as they are, without another warning.
        foreach (var key in bogus.Keys)
        {
            var grain = cluster.Client.GetGrain<IAccountGrain>(key);
            await cluster.DeactivateAsync(grain);
            Assert.Equal(7m, (await grain.Get()).Balance);
        }

        Assert.Equal(warnings.Count, capture.Messages.Count(m => m.Contains("rebuilt that state from its events", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_the_events_a_legacy_json_snapshot_is_read_with_a_warning_and_any_other_unreadable_one_fails_the_activation()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapshots");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var table = $"\"{schema.Name}\".events";
        foreach (var (key, payload) in new[]
        {
            ("trimmed-legacy", $"'{LegacySnapshot}'::jsonb"),
            ("trimmed-corrupt", "jsonb_set(data, '{state}', '\"AAECAwQFBgc=\"')"),
            ("trimmed-other-type", "jsonb_set(data, '{type}', '\"Elsewhere.OtherState,Elsewhere\"')"),
        })
        {
            await WriteHistoryAsync(cluster, schema, key);
            await schema.ExecuteAsync($"UPDATE {table} SET data = {payload} WHERE stream = 'account/{key}' AND snapshot");
            // What retention leaves: the snapshot without the events it covers.
            await schema.ExecuteAsync($"DELETE FROM {table} WHERE stream = 'account/{key}' AND NOT snapshot AND version <= 6");
        }

        // The state earlier versions would have read, loudly.
        var legacy = await cluster.Client.GetGrain<IAccountGrain>("trimmed-legacy").Get();
        Assert.Equal((1000m, 7, "legacy"), (legacy.Balance, legacy.Version, Assert.Single(legacy.Memos)));
        var warning = Assert.Single(
            capture.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal) && m.Contains("account/trimmed-legacy", StringComparison.Ordinal));
        Assert.Contains("read as JSON", warning, StringComparison.Ordinal);

        foreach (var (key, reason) in new[] { ("trimmed-corrupt", "Orleans cannot deserialize it"), ("trimmed-other-type", "Elsewhere.OtherState") })
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IAccountGrain>(key).Get());
            // Both type names: the stored one (the reason) and the state type it could not be read as.
            foreach (var part in new[] { $"stream 'account/{key}'", "version 6", reason, "no longer all stored", typeof(AccountState).FullName! })
            {
                Assert.Contains(part, error.Message, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Seven deposits in one batch: with the test interval (5), one snapshot at stream version 6, saved before this returns.</summary>
    private static async Task WriteHistoryAsync(Orleans.TestingHost.InProcessTestCluster cluster, PostgresTestSchema schema, string key)
    {
        var account = cluster.Client.GetGrain<IAccountGrain>(key);
        await account.DepositMany(7, 1, "d");
        await cluster.DeactivateAsync(account);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'account/{key}' AND snapshot AND version = 6") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"No snapshot of account/{key} was saved.");
            await Task.Delay(20);
        }
    }
}
