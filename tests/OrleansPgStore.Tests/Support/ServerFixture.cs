using OrleansPgStore.TestDatabase;

[assembly: AssemblyFixture(typeof(OrleansPgStore.Tests.Support.ServerFixture))]

namespace OrleansPgStore.Tests.Support;

/// <summary>Starts the run's PostgreSQL server once and stops it when every test has run.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await TestServer.GetConnectionStringAsync();

    public async ValueTask DisposeAsync() => await TestServer.StopAsync();
}
