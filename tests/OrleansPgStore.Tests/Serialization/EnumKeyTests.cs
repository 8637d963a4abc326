using System.Text.Json;
using OrleansPgStore.Serialization;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// Enum values are stored as numbers, but enum dictionary keys by name (JSON property names are strings, and
/// System.Text.Json writes an enum key's name): renaming an enum member keeps its values readable and makes its keys
/// unreadable. Such a read fails loudly, naming the key and where it is, never dropping or misreading the entry.
/// </summary>
public sealed class EnumKeyTests
{
    private static readonly JsonSerializerOptions Strict = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, []);

    private static readonly JsonSerializerOptions Lax = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: false, []);

    public sealed class Schedule
    {
        public DayOfWeek Day { get; set; }

        public Dictionary<DayOfWeek, int> Hours { get; set; } = [];
    }

    [Fact]
    public void Enum_values_are_stored_as_numbers_and_enum_keys_by_name()
    {
        var json = JsonSerializer.Serialize(
            new Schedule { Day = DayOfWeek.Friday, Hours = { [DayOfWeek.Friday] = 5, [(DayOfWeek)42] = 1 } }, Strict);

        Assert.Equal("""{"day":5,"hours":{"Friday":5,"42":1}}""", json);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_key_naming_an_enum_member_that_no_longer_exists_fails_the_read_naming_it(bool strict)
    {
        // Stored as "Friday", then the member was renamed (here: a name the enum does not have).
        const string stored = """{"day":5,"hours":{"Fryday":5,"Monday":8}}""";

        var error = Record.Exception(() => JsonSerializer.Deserialize<Schedule>(stored, strict ? Strict : Lax));

        Assert.NotNull(error);
        var json = Assert.IsAssignableFrom<JsonException>(error);
        Assert.Contains("Fryday", json.Message, StringComparison.Ordinal);
        Assert.Contains("hours", json.Message + json.Path, StringComparison.Ordinal);
    }
}
