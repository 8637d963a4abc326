using System.Text.Json;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>Schema stamps, versioned upcasters and renames, without a database.</summary>
public sealed class JournalEventSerializerTests
{
    private static JournalEventSerializer Create(EventUpcasters upcasters)
        => new(new EventTypeNames(), StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, []), upcasters);

    private static RecordedEvent Stored(string name, string json, long version = 3)
        => new(1, "payments/1", version, name, json, null, EventMetadata.None, DateTimeOffset.UnixEpoch);

    private static readonly EventUpcasters FromVersion1 = new EventUpcasters().Add("test.paid", schemaVersion: 1, payload =>
    {
        payload["amount"] = payload["amt"]!.DeepClone();
        payload.Remove("amt");
        return payload;
    });

    [Fact]
    public void A_type_with_a_schema_version_stamps_it_and_reads_it_back()
    {
        var events = Create(new EventUpcasters());
        var data = events.Serialize(new Paid(5));

        Assert.Equal("test.paid", data.Name);
        Assert.Equal("""{"amount":5,"$v":2}""", data.Json);
        Assert.Equal(new Paid(5), events.Deserialize<Paid>(Stored(data.Name, data.Json)));
    }

    [Fact]
    public void A_versioned_upcaster_reads_unstamped_payloads_and_leaves_current_ones_alone()
    {
        var events = Create(FromVersion1);

        Assert.Equal(new Paid(7), events.Deserialize<Paid>(Stored("test.paid", """{"amt":7}""")));
        Assert.Equal(new Paid(8), events.Deserialize<Paid>(Stored("test.paid", """{"amount":8,"$v":2}""")));
    }

    [Fact]
    public void Without_the_upcaster_an_old_payload_fails_naming_stream_version_event_and_versions()
    {
        var error = Assert.Throws<JsonException>(() => Create(new EventUpcasters()).Deserialize<Paid>(Stored("test.paid", """{"amt":7}""")));

        foreach (var part in new[] { "Event 'test.paid'", "version 3", "stream 'payments/1'", "schema version 1" })
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_payload_from_a_newer_schema_fails()
    {
        var error = Assert.Throws<JsonException>(() => Create(FromVersion1).Deserialize<Paid>(Stored("test.paid", """{"amount":1,"$v":3}""")));
        Assert.Contains("newer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rename_reads_a_retired_name_as_the_current_one()
    {
        var events = Create(new EventUpcasters().Rename("billing.paid", "test.paid").Add("test.paid", 1, payload => payload));

        Assert.Equal(new Paid(2), events.Deserialize<Paid>(Stored("billing.paid", """{"amount":2}""")));
        var upcast = new EventUpcasters().Rename("a", "b").Rename("b", "a");
        Assert.Throws<InvalidOperationException>(() => upcast.Upcast("a", []));
    }

    /// <summary>json-contract.md: versioned upcasters chain (1 → 2 → 3); each payload starts at its own stamp.</summary>
    [Theory]
    [InlineData("""{"amt":7}""")]                                    // version 1 (no stamp): amt
    [InlineData("""{"amount":7,"$v":2}""")]                          // version 2: amount
    [InlineData("""{"amount":7,"currency":"EUR","$v":3}""")]         // version 3: amount and currency
    public void Versioned_upcasters_chain_from_each_stored_version_to_the_current_one(string json)
    {
        var calls = new List<int>();
        var events = Create(new EventUpcasters()
            .Add("test.priced", schemaVersion: 1, payload =>
            {
                calls.Add(1);
                payload["amount"] = payload["amt"]!.DeepClone();
                payload.Remove("amt");
                return payload;
            })
            .Add("test.priced", schemaVersion: 2, payload =>
            {
                calls.Add(2);
                payload["currency"] = "EUR";
                return payload;
            }));

        Assert.Equal(new Priced(7, "EUR"), events.Deserialize<Priced>(Stored("test.priced", json)));
        var stamp = json.Contains("\"$v\":", StringComparison.Ordinal) ? json[json.IndexOf("\"$v\":", StringComparison.Ordinal) + 5] - '0' : 1;
        Assert.Equal(Enumerable.Range(stamp, 3 - stamp), calls);
    }
}

/// <summary>An event at schema version 3: version 1 stored <c>amt</c>, version 2 had no currency.</summary>
[GenerateSerializer, Alias("test.priced"), EventSchemaVersion(3)]
public sealed record Priced([property: Id(0)] decimal Amount, [property: Id(1)] string Currency);
