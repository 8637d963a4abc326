using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.TestSupport;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Diagnostics;

/// <summary>
/// docs/operations.md: payloads and connection strings are never logged. Every failure that involves a payload (refused
/// by PostgreSQL, refused by the JSON contract, stored in a form the type cannot read, for events and grain states)
/// is logged without its values (errors name members, which are the type's, not the data's).
/// </summary>
public sealed class PayloadLoggingTests
{
    private const string Marker = "Sécret-payload-7391";

    [Fact]
    public async Task Failures_about_a_payload_never_log_the_payload()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("payload-logs");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var journal = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>(TestClusters.Provider).Journal;
        var failures = new List<Exception>();

        // An event PostgreSQL refuses (a NUL in a string), raised with and without waiting.
        var account = cluster.Client.GetGrain<IAccountGrain>("refused");
        failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => account.Note($"{Marker}\0")));
        var tally = cluster.Client.GetGrain<IPlainTallyGrain>("refused");
        await tally.Raise($"{Marker}\0", 1);
        failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => tally.Confirm()));

        // Stored events the type cannot read: a wrong type, an unknown member, invalid for the event's shape.
        foreach (var (key, json) in new[]
        {
            ("wrong-type", $$"""{"amount":"{{Marker}}","memo":"{{Marker}}"}"""),
            ("unknown-member", $$"""{"amount":1,"memo":"m","retired":"{{Marker}}"}"""),
            ("big-number", $$"""{"amount":"{{Marker}}1e400","memo":"m"}"""),
            ("array", $$"""["{{Marker}}"]"""),
        })
        {
            await journal.CommitAsync($"account/{key}", [new EventData("test.deposited", json)]);
            failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IAccountGrain>(key).Get()));
        }

        // A grain state the JSON contract refuses (a member typed object), and one stored in a form its type cannot read.
        var refusedState = cluster.Client.GetGrain<IShapeStateGrain<OrleansPgStore.Tests.Serialization.ObjectMember>>("refused");
        failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => refusedState.Write(new() { Anything = Marker })));
        await cluster.Client.GetGrain<IFieldStateGrain>("corrupt").Set(1, 2, "r");
        await cluster.DeactivateAsync(cluster.Client.GetGrain<IFieldStateGrain>("corrupt"));
        await schema.ExecuteAsync(
            $$$"""UPDATE "{{{schema.Name}}}".durable_state SET state = '{"a":"{{{Marker}}}","b":2,"reservations":{}}' WHERE persistence_id LIKE '%/corrupt'""");
        failures.Add(await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IFieldStateGrain>("corrupt").Get()));

        Assert.Equal(8, failures.Count);
        // orleans.md: an unreadable state fails ReadStateAsync naming provider, state name, grain, type and member.
        foreach (var part in new[] { "'Postgres'", "'fields'", "/corrupt", typeof(FieldState).FullName!, "$.a" })
        {
            Assert.Contains(part, failures[^1].Message, StringComparison.Ordinal);
        }

        Assert.NotEmpty(capture.Entries);   // the failures were logged
        var leaks = capture.Entries.Where(e => $"{e.Message} {e.Exception}".Contains(Marker, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, "Logged with the payload:\n" + string.Join("\n", leaks.Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}")));
    }
}
