namespace OrleansPgStore.Sample.Grains;

[GenerateSerializer]
public sealed class CustomerProfile
{
    [Id(0)]
    public string? Name { get; set; }

    [Id(1)]
    public string? Email { get; set; }

    [Id(2)]
    public List<string> Accounts { get; set; } = [];
}

public interface ICustomerProfileGrain : IGrainWithStringKey
{
    Task Update(string name, string email);

    Task AddAccount(string accountId);

    Task<(CustomerProfile Profile, string? ETag)> Get();
}

/// <summary>A state-based grain: one row in the durable-state table, rewritten in place, its revision as ETag.</summary>
[GrainType("customer")]
public sealed class CustomerProfileGrain([PersistentState("profile", "Postgres")] IPersistentState<CustomerProfile> profile)
    : Grain, ICustomerProfileGrain
{
    public async Task Update(string name, string email)
    {
        profile.State.Name = name;
        profile.State.Email = email;
        await profile.WriteStateAsync();
    }

    public async Task AddAccount(string accountId)
    {
        if (!profile.State.Accounts.Contains(accountId))
        {
            profile.State.Accounts.Add(accountId);
            await profile.WriteStateAsync();
        }
    }

    public Task<(CustomerProfile Profile, string? ETag)> Get() => Task.FromResult((profile.State, (string?)profile.Etag));
}
