using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansPgStore.Options;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>
/// Configuration keys bind to the documented settings, and a key of an older release that was renamed is refused by
/// name instead of being skipped (the binder ignores unknown keys, which would leave the default in place unseen).
/// </summary>
public sealed class ConfigurationKeyTests
{
    [Fact]
    public void Reaction_worker_settings_bind_from_their_keys()
    {
        var options = Resolve(new()
        {
            ["Postgres:Reactions:Workers"] = "3",
            ["Postgres:Reactions:Worker:MaxClaim"] = "7",
            ["Postgres:Reactions:Worker:PageSize"] = "50",
            ["Postgres:Reactions:Worker:LeaseDuration"] = "00:00:12",
            ["Postgres:Reactions:Worker:PollInterval"] = "00:00:00.250",
            ["Postgres:WarmReadConnections"] = "2",
        });

        Assert.Equal(3, options.Reactions.Workers);
        Assert.Equal(7, options.Reactions.Worker.MaxClaim);
        Assert.Equal(50, options.Reactions.Worker.PageSize);
        Assert.Equal(TimeSpan.FromSeconds(12), options.Reactions.Worker.LeaseDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Reactions.Worker.PollInterval);
        Assert.Equal(2, options.WarmReadConnections);
    }

    [Theory]
    [InlineData("Postgres:Reactions:Loop:MaxClaim", "7", "'Reactions:Loop' is now 'Reactions:Worker'")]
    [InlineData("Postgres:Reactions:Loop:LeaseDuration", "00:00:12", "'Reactions:Loop' is now 'Reactions:Worker'")]
    [InlineData("Postgres:Reactions:Loop:Lane", "audit", "'Reactions:Loop' is now 'Reactions:Worker'")]
    [InlineData("Postgres:ActivationReadConnections", "2", "'ActivationReadConnections' is now 'WarmReadConnections'")]
    public void A_renamed_key_is_refused_by_name(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { [key] = value }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_renamed_key_present_is_named_at_once()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Postgres:Reactions:Loop:MaxClaim"] = "7",
            ["Postgres:ActivationReadConnections"] = "2",
        }));

        Assert.Contains("'Reactions:Loop' is now 'Reactions:Worker'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'ActivationReadConnections' is now 'WarmReadConnections'", error.Message, StringComparison.Ordinal);
    }

    private static PostgresJournalOptions Resolve(Dictionary<string, string?> values)
    {
        values["Postgres:ConnectionString"] = "Host=localhost;Database=unused";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        using var services = new ServiceCollection().AddPostgresJournal(configuration.GetSection("Postgres")).BuildServiceProvider();
        return services.GetRequiredService<IOptionsMonitor<PostgresJournalOptions>>().Get(PostgresJournalOptions.DefaultName);
    }
}
