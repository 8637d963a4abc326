// The cases of dotnet/orleans test/Extensions/Orleans.AdoNet.Tests/PostgreSqlMembershipTableTests.cs (tag v10.2.2),
// run against UsePostgresClustering's membership table and gateway list provider.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Clustering;

/// <summary>One schema for the class; each test is its own cluster id in it, as in Orleans' own runs.</summary>
public sealed class MembershipSchemaFixture : IAsyncLifetime
{
    public PostgresTestSchema Schema { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Schema = await PostgresTestSchema.CreateAsync("membership");

    public ValueTask DisposeAsync() => Schema.DisposeAsync();
}

public sealed class PostgresMembershipTableTests(MembershipSchemaFixture fixture) : MembershipTableTestsBase, IClassFixture<MembershipSchemaFixture>
{
    private ServiceProvider? _silo;
    private ServiceProvider? _client;

    protected override Task<IMembershipTable> CreateMembershipTable()
    {
        _silo = Services(services => PostgresClusterServices.AddMembershipTable(services, Configure));
        return Task.FromResult(_silo.GetRequiredService<IMembershipTable>());
    }

    protected override Task<IGatewayListProvider> CreateGatewayListProvider()
    {
        _client = Services(services => PostgresClusterServices.AddGatewayListProvider(services, Configure));
        return Task.FromResult(_client.GetRequiredService<IGatewayListProvider>());
    }

    protected override async ValueTask DisposeProvidersAsync()
    {
        await _silo!.DisposeAsync();
        await _client!.DisposeAsync();
    }

    [Fact]
    public void MembershipTable_PostgreSql_Init()
    {
    }

    [Fact]
    public Task MembershipTable_PostgreSql_GetGateways() => MembershipTable_GetGateways();

    [Fact]
    public Task MembershipTable_PostgreSql_ReadAll_EmptyTable() => MembershipTable_ReadAll_EmptyTable();

    [Fact]
    public Task MembershipTable_PostgreSql_InsertRow() => MembershipTable_InsertRow();

    [Fact]
    public Task MembershipTable_PostgreSql_ReadRow_Insert_Read() => MembershipTable_ReadRow_Insert_Read();

    [Fact]
    public Task MembershipTable_PostgreSql_ReadAll_Insert_ReadAll() => MembershipTable_ReadAll_Insert_ReadAll();

    [Fact]
    public Task MembershipTable_PostgreSql_UpdateRow() => MembershipTable_UpdateRow();

    [Fact]
    public Task MembershipTable_PostgreSql_UpdateRowInParallel() => MembershipTable_UpdateRowInParallel();

    [Fact]
    public Task MembershipTable_PostgreSql_UpdateIAmAlive() => MembershipTable_UpdateIAmAlive();

    [Fact]
    public Task MembershipTablePostgreSql_CleanupDefunctSiloEntries() => MembershipTable_CleanupDefunctSiloEntries();

    private void Configure(OptionsBuilder<PostgresClusteringOptions> options) => options.Configure(o =>
    {
        o.ConnectionString = fixture.Schema.ConnectionString;
        o.Schema = fixture.Schema.Name;
    });

    private ServiceProvider Services(Action<IServiceCollection> add)
    {
        var services = new ServiceCollection().AddLogging().AddOptions();
        services.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = "membership-tests";
        });
        add(services);
        return services.BuildServiceProvider();
    }
}
