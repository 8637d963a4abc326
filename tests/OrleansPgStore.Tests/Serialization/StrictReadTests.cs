using System.Text.Json;
using OrleansPgStore.Serialization;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// Stored JSON that is not what we write is refused by member, without a database: a null where the type says never
/// null, two values for one member (exact or differing in case), a number of the wrong type or in a string.
/// </summary>
public sealed class StrictReadTests
{
    private static readonly JsonSerializerOptions Strict = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, []);

    private static readonly JsonSerializerOptions Lax = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: false, []);

    /// <summary>Corrupt payloads, and the member each error must name.</summary>
    public static TheoryData<string, string> Corrupt => new()
    {
        { """{"payer":null}""", "payer" },
        { """{"payer":5}""", "payer" },
        { """{"amount":5,"amount":7}""", "amount" },
        { """{"amount":5,"Amount":7}""", "amount" },
        { """{"amount":"5"}""", "amount" },
        { """{"amount":true}""", "amount" },
        { """{"count":"5"}""", "count" },
        { """{"count":1.5}""", "count" },
        { """{"count":12345678901}""", "count" },
        { """{"ratio":"abc"}""", "ratio" },
        { """{"ratio":"5"}""", "ratio" },
        { """{"ratio":"-0.0"}""", "ratio" },
        { """{"ratio":[]}""", "ratio" },
    };

    [Theory]
    [MemberData(nameof(Corrupt))]
    public void A_corrupt_payload_fails_the_read_naming_the_member(string json, string member)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Payment>(json, Strict));

        // A converter's own message leaves the path to System.Text.Json's Path; our read errors add it (see below).
        Assert.Contains(member, error.Message + error.Path, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The same corrupt payloads fail a lax read too (StrictReads = false), except numbers stored as strings.</summary>
    [Theory]
    [MemberData(nameof(Corrupt))]
    public void A_lax_read_refuses_the_same_payloads_except_numbers_in_strings(string json, string member)
    {
        string[] numbersInStrings = ["""{"amount":"5"}""", """{"count":"5"}""", """{"ratio":"5"}""", """{"ratio":"-0.0"}"""];
        if (numbersInStrings.Contains(json))
        {
            Assert.NotNull(JsonSerializer.Deserialize<Payment>(json, Lax));
            return;
        }

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Payment>(json, Lax));
        Assert.Contains(member, error.Message + error.Path, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_event_read_error_names_the_member()
    {
        var events = new JournalEventSerializer(
            new OrleansPgStore.Serialization.EventTypeNames(new Dictionary<Type, string> { [typeof(Payment)] = "test.payment" }),
            Strict, new OrleansPgStore.Store.Journal.EventUpcasters());
        var stored = new OrleansPgStore.Store.Journal.RecordedEvent(
            1, "payments/1", 0, "test.payment", """{"payer":"p","ratio":"abc"}""", null, OrleansPgStore.Store.Journal.EventMetadata.None, DateTimeOffset.UnixEpoch);

        var error = Assert.Throws<JsonException>(() => events.Deserialize<Payment>(stored));

        Assert.Contains("$.ratio", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":null,"nickname":null}""")]
    [InlineData("""{"name":"a","name":"b","nickname":null}""")]
    [InlineData("""{"name":"a","NAME":"b","nickname":null}""")]
    public void A_null_or_a_duplicate_fails_even_a_lax_read(string json)
    {
        foreach (var options in new[] { Strict, Lax })
        {
            var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Person>(json, options));
            Assert.Contains("name", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void A_null_in_a_non_nullable_member_is_refused_on_write_too_naming_type_and_member()
    {
        var error = Assert.ThrowsAny<Exception>(() => JsonSerializer.Serialize(new Payment { Payer = null! }, Strict));

        Assert.Contains(nameof(Payment), error.Message, StringComparison.Ordinal);
        Assert.Contains("payer", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Nullable_members_read_null_and_special_floating_point_values_read_back_exactly()
    {
        var read = JsonSerializer.Deserialize<Payment>("""{"payer":"p","note":null,"ratio":"-0","amount":"-0.00"}""", Strict)!;

        Assert.Null(read.Note);
        Assert.True(double.IsNegative(read.Ratio) && read.Ratio == 0);
        Assert.True(decimal.IsNegative(read.Amount) && read.Amount == 0);
        foreach (var ratio in new[] { -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon })
        {
            var json = JsonSerializer.Serialize(new Payment { Payer = "p", Ratio = ratio }, Strict);
            Assert.Equal(BitConverter.DoubleToInt64Bits(ratio), BitConverter.DoubleToInt64Bits(JsonSerializer.Deserialize<Payment>(json, Strict)!.Ratio));
        }
    }

    [Fact]
    public void A_lax_read_still_takes_numbers_in_strings()
        => Assert.Equal(5m, JsonSerializer.Deserialize<Payment>("""{"amount":"5"}""", Lax)!.Amount);
}

/// <summary>Members of each kind strict reads check: an [Id] field, [Id] properties, a nullable one.</summary>
[GenerateSerializer]
public sealed class Payment
{
    [Id(0)]
    public string Payer = "";

    [Id(1)]
    public decimal Amount { get; set; }

    [Id(2)]
    public int Count { get; set; }

    [Id(3)]
    public double Ratio { get; set; }

    [Id(4)]
    public string? Note { get; set; }
}
