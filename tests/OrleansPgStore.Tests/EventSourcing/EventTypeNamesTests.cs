using OrleansPgStore.Serialization;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

public sealed class EventTypeNamesTests
{
    [GenerateSerializer, Alias("test.aliased-twice"), Alias("test.old-alias")]
    public sealed record AliasedTwice;

    [GenerateSerializer]
    public sealed record Generic<T>([property: Id(0)] T Value);

    [Fact]
    public void A_registered_name_wins_over_the_alias_and_the_full_name()
    {
        var names = new EventTypeNames(new Dictionary<Type, string> { [typeof(Deposited)] = "money-in" });

        Assert.Equal("money-in", names.GetName(typeof(Deposited)));
        Assert.Equal("test.withdrawn", names.GetName(typeof(Withdrawn)));
        Assert.Equal(typeof(Noted).FullName, names.GetName(typeof(Noted)));
    }

    [Fact]
    public void Every_name_of_a_type_resolves_to_it()
    {
        var names = new EventTypeNames(new Dictionary<Type, string> { [typeof(Deposited)] = "money-in" });

        Assert.Equal(typeof(Deposited), names.Resolve("money-in", typeof(AccountEvent)));
        Assert.Equal(typeof(Deposited), names.Resolve("test.deposited", typeof(AccountEvent)));
        Assert.Equal(typeof(Deposited), names.Resolve(typeof(Deposited).FullName!, typeof(AccountEvent)));
        Assert.Equal("test.aliased-twice", names.GetName(typeof(AliasedTwice)));
        Assert.Equal(typeof(AliasedTwice), names.Resolve("test.old-alias", typeof(object)));
    }

    [Fact]
    public void A_name_resolves_only_to_a_type_the_grain_can_apply()
    {
        var names = new EventTypeNames();

        Assert.Null(names.Resolve("test.deposited", typeof(Incremented)));
        Assert.Null(names.Resolve("no.such.type", typeof(object)));
    }

    [Fact]
    public void Generic_events_need_an_alias_or_a_registered_name()
    {
        var e = Assert.Throws<ArgumentException>(() => new EventTypeNames().GetName(typeof(Generic<int>)));
        Assert.Contains("generic", e.Message);

        var names = new EventTypeNames(new Dictionary<Type, string> { [typeof(Generic<int>)] = "generic-int" });
        Assert.Equal("generic-int", names.GetName(typeof(Generic<int>)));
        Assert.Equal(typeof(Generic<int>), names.Resolve("generic-int", typeof(object)));
    }

    [Fact]
    public void Reserved_or_duplicate_registered_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new EventTypeNames(new Dictionary<Type, string> { [typeof(Deposited)] = "$snapshot" }));
        var e = Assert.Throws<ArgumentException>(() => new EventTypeNames(new Dictionary<Type, string>
        {
            [typeof(Deposited)] = "same",
            [typeof(Withdrawn)] = "same",
        }));
        Assert.Contains("registered for both", e.Message);
    }
}
