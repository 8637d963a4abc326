using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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

    [Fact]
    public async Task A_stopping_silo_ends_a_retrying_read()
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

        // Would wait for the hour-long retry if stopping did not end it.
        await cluster.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => call);
        Assert.Contains(capture.Messages, m => m.Contains("gave up", StringComparison.Ordinal) && m.Contains("the silo is stopping", StringComparison.Ordinal));
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
