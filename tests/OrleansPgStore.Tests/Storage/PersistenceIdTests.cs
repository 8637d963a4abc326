using OrleansPgStore.Storage;

namespace OrleansPgStore.Tests.Storage;

/// <summary>
/// docs/orleans.md: a grain state's row is keyed <c>{serviceId}/{stateName}/{grainType}/{grainKey}</c>, with <c>%</c>
/// and <c>/</c> percent-encoded in the first three, so two services, two states of a grain, or two grain types with
/// equal keys never share a row: over a corpus of names built to collide, distinct states get distinct keys.
/// </summary>
public sealed class PersistenceIdTests
{
    private static readonly string[] Parts = ["a", "b", "a/b", "b/a", "a%2Fb", "a%252Fb", "%", "%25", "a/", "/b", "a%", "ü/ß"];

    [Fact]
    public void Distinct_service_state_type_and_key_never_share_a_persistence_id()
    {
        var seen = new Dictionary<string, (string, string, GrainId)>(StringComparer.Ordinal);
        var count = 0;
        foreach (var service in Parts)
        {
            foreach (var state in Parts)
            {
                foreach (var type in Parts)
                {
                    foreach (var key in Parts)
                    {
                        var grain = GrainId.Create(type, key);
                        var id = PersistenceIds.For(service, state, grain);
                        Assert.True(seen.TryAdd(id, (service, state, grain)),
                            $"{(service, state, grain)} and {seen.GetValueOrDefault(id)} share the persistence id '{id}'");
                        count++;
                    }
                }
            }
        }

        Assert.Equal(Parts.Length * Parts.Length * Parts.Length * Parts.Length, count);
    }

    [Fact]
    public void The_documented_form_holds_and_the_key_is_kept_as_it_is()
    {
        Assert.Equal("svc/profile/account/alice", PersistenceIds.For("svc", "profile", GrainId.Create("account", "alice")));
        Assert.Equal("s%2F1/st%25/t%2Fx/k/y%", PersistenceIds.For("s/1", "st%", GrainId.Create("t/x", "k/y%")));
    }
}
