using OrleansPgStore.Testing;

[assembly: AssemblyFixture(typeof(OrleansPgStore.Cli.Tests.Support.ServerFixture))]

namespace OrleansPgStore.Cli.Tests.Support;

/// <summary>Starts the run's PostgreSQL server once and stops it when every test has run.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await PostgresTestServer.GetConnectionStringAsync();

    public async ValueTask DisposeAsync() => await PostgresTestServer.StopAsync();
}
