using OrleansPgStore.Testing;
using Xunit;

namespace OrleansPgStore.TestSupport;

/// <summary>
/// Starts the run's PostgreSQL server once and stops it when every test has run. A test project makes it its assembly
/// fixture with <c>[assembly: AssemblyFixture(typeof(ServerFixture))]</c>.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await PostgresTestServer.GetConnectionStringAsync();

    public async ValueTask DisposeAsync() => await PostgresTestServer.StopAsync();
}
