namespace OrleansPgStore.Tests.Grains;

[GenerateSerializer]
public sealed class ProfileState
{
    [Id(0)]
    public string? Name { get; set; }

    [Id(1)]
    public int Visits { get; set; }
}

[GenerateSerializer]
public sealed record ProfileView(
    [property: Id(0)] string? Name,
    [property: Id(1)] int Visits,
    [property: Id(2)] string? ETag,
    [property: Id(3)] bool RecordExists);

public interface IProfileGrain : IGrainWithStringKey
{
    Task Visit(string name);

    Task<ProfileView> Get();

    Task Clear();
}

/// <summary>A [PersistentState] grain on the journal registration's grain storage.</summary>
[GrainType("profile")]
public sealed class ProfileGrain([PersistentState("profile", TestClusters.Provider)] IPersistentState<ProfileState> profile)
    : Grain, IProfileGrain
{
    public async Task Visit(string name)
    {
        profile.State.Name = name;
        profile.State.Visits++;
        await profile.WriteStateAsync();
    }

    public Task<ProfileView> Get() => Task.FromResult(new ProfileView(profile.State.Name, profile.State.Visits, profile.Etag, profile.RecordExists));

    public Task Clear() => profile.ClearStateAsync();
}

public interface IOtherProfileGrain : IGrainWithStringKey
{
    Task Visit(string name);

    Task<ProfileView> Get();
}

/// <summary>Same state name and key type as <see cref="ProfileGrain"/>, but another grain type: it must get its own row.</summary>
[GrainType("other-profile")]
public sealed class OtherProfileGrain([PersistentState("profile", TestClusters.Provider)] IPersistentState<ProfileState> profile)
    : Grain, IOtherProfileGrain
{
    public async Task Visit(string name)
    {
        profile.State.Name = name;
        profile.State.Visits++;
        await profile.WriteStateAsync();
    }

    public Task<ProfileView> Get() => Task.FromResult(new ProfileView(profile.State.Name, profile.State.Visits, profile.Etag, profile.RecordExists));
}

public interface IDefaultStorageGrain : IGrainWithStringKey
{
    Task Rename(string name);

    Task<(string? Name, bool RecordExists)> Get();
}

/// <summary>A [PersistentState] that names no provider: it uses whatever grain storage is registered as Default.</summary>
[GrainType("default-storage")]
public sealed class DefaultStorageGrain([PersistentState("plain")] IPersistentState<ProfileState> state) : Grain, IDefaultStorageGrain
{
    public Task Rename(string name)
    {
        state.State.Name = name;
        return state.WriteStateAsync();
    }

    public Task<(string? Name, bool RecordExists)> Get() => Task.FromResult((state.State.Name, state.RecordExists));
}
