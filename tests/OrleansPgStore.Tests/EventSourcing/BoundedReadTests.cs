using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// With the server unreachable (and seeding off, so the silo starts), activation reads retry for a bounded time and
/// then fail with a transient error naming the stream; a silo that stops is not held up by a retrying read.
/// </summary>
public sealed class BoundedReadTests
{
    [Fact]
    public async Task An_activation_read_gives_up_after_the_retry_timeout_naming_the_stream()
    {
        await using var cluster = TestClusters.Build(UnreachableServer(), "offline", silos: 1, configure: o =>
        {
            o.SeedSchema = false;
            o.ReadRetryTimeout = TimeSpan.FromSeconds(1);
        });
        await cluster.DeployAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IAccountGrain>("away").Get());

        Assert.IsNotType<TimeoutException>(error);
        Assert.Contains("Reading stream 'account/away'", error.Message, StringComparison.Ordinal);
        Assert.Contains("gave up", error.Message, StringComparison.Ordinal);
        var store = Assert.IsType<OrleansPgStore.Store.Errors.OrleansPgStoreException>(error);
        Assert.True(store.IsTransient);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stopping_silo_ends_a_retrying_read(bool activationCancelledFirst)
    {
        var capture = new LogCapture();
        var cluster = TestClusters.Build(UnreachableServer(), "offline", silos: 1, configure: o =>
        {
            o.SeedSchema = false;
            o.ReadRetryTimeout = TimeSpan.FromHours(1);
        }, configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var call = cluster.Client.GetGrain<IAccountGrain>("stuck").Get();
        await Eventually.WaitAsync(() => capture.Messages.Any(m => m.Contains("Reading stream account/stuck failed", StringComparison.Ordinal)), "the failure is logged");

        if (activationCancelledFirst)
        {
            // What a stopping silo can do before the read gives up: deactivate the activation that waits for it. Orleans
            // then logs the cancellation only, and drops the activation's own failure when the read does give up.
            Assert.True(cluster.TryGetGrainContext(cluster.Client.GetGrain<IAccountGrain>("stuck").GetGrainId(), out var activation));
            activation.Deactivate(new DeactivationReason(DeactivationReasonCode.ShuttingDown, "the test stops the silo"));
            await Eventually.WaitAsync(() => capture.Messages.Any(m => m.Contains("Activation was cancelled", StringComparison.Ordinal)),
                "Orleans cancelled the activation");
        }

        // Would wait for the hour-long retry if stopping did not end it.
        await cluster.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => call);
        // The adaptor says so itself, from the grain's scheduler, possibly after the silo's stop returned; Orleans may
        // not (it logs only the cancellation when it cancelled the activation waiting for the read first).
        await Eventually.WaitAsync(() => capture.Entries.Any(e => e.Category == typeof(PostgresLogConsistencyProvider).FullName
            && e.Message.StartsWith("Reading stream account/stuck failed for good", StringComparison.Ordinal)
            && e.Message.Contains("gave up", StringComparison.Ordinal) && e.Message.Contains("the silo is stopping", StringComparison.Ordinal)),
            "the read's give-up is logged by the adaptor, naming the stop");
    }

    private static string UnreachableServer()
    {
        // A port nothing listens on: connections are refused at once.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"Host=127.0.0.1;Port={port};Username=nobody;Password=none;Database=none";
    }

}
