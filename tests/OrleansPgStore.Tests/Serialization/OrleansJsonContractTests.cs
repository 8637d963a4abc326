using System.Text.Json;
using System.Xml.Linq;
using OrleansPgStore.Serialization;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>The stored JSON contract, without a database: what is kept, what is refused, what strict reads reject.</summary>
public sealed class OrleansJsonContractTests
{
    private static readonly JsonSerializerOptions Strict = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, []);

    private static T RoundTrip<T>(T value, out string json)
    {
        json = JsonSerializer.Serialize(value, Strict);
        return JsonSerializer.Deserialize<T>(json, Strict)!;
    }

    [Fact]
    public void Public_id_fields_are_stored()
    {
        var state = new FieldState { A = 3, B = 4, Reservations = { ["x"] = 1 } };

        var read = RoundTrip(state, out var json);

        Assert.Equal("""{"a":3,"b":4,"reservations":{"x":1}}""", json);
        Assert.Equal((3, 4, 1), (read.A, read.B, read.Reservations["x"]));
        Assert.Equal(7, RoundTrip(new UpdateA { Val = 7 }, out _).Val);
    }

    [Fact]
    public void Non_public_get_only_init_only_and_inherited_members_are_stored()
    {
        var id = Guid.NewGuid();
        var value = new HiddenDerived(id) { Internal = 42, At = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc) };
        value.Set("s3cret", 5);
        value.Tag("a");
        value.Tag("b");

        var read = RoundTrip(value, out var json);

        Assert.Equal(id, read.Id);
        Assert.Equal(42, read.Internal);
        Assert.Equal(value.At, read.At);
        Assert.Equal("s3cret", read.Secret);
        Assert.Equal(5, read.Count);
        Assert.Equal(["a", "b"], read.Tags);
        Assert.Contains("\"_secret\":\"s3cret\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_and_constructor_only_classes_round_trip()
    {
        Assert.Equal(new Moved("a", "b", 3), RoundTrip(new Moved("a", "b", 3), out _));
        var person = RoundTrip(new Registered("Ada", "Lovelace"), out _);
        Assert.Equal(("Ada", "Lovelace"), (person.FirstName, person.LastName));
    }

    [Fact]
    public void A_member_typed_object_or_an_undeclared_interface_is_refused_by_name()
    {
        var untyped = Assert.ThrowsAny<NotSupportedException>(() => JsonSerializer.Serialize(new Untyped { Payload = 1 }, Strict));
        Assert.Contains(typeof(Untyped).FullName!, untyped.Message, StringComparison.Ordinal);
        Assert.Contains("'payload'", untyped.Message, StringComparison.Ordinal);

        var drawing = Assert.ThrowsAny<NotSupportedException>(() => JsonSerializer.Serialize(new Drawing(), Strict));
        Assert.Contains(typeof(Drawing).FullName!, drawing.Message, StringComparison.Ordinal);
        Assert.Contains("'shape'", drawing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_member_orleans_would_not_persist_either_is_left_out_instead_of_refused()
    {
        var read = RoundTrip(Scribbled(new WithScratch { Value = 3 }), out var json);

        Assert.Equal("""{"value":3}""", json);
        Assert.Equal(3, read.Value);
    }

    private static WithScratch Scribbled(WithScratch value)
    {
        value.Scribble(new object());
        return value;
    }

    [Fact]
    public void An_xml_document_is_refused()
    {
        var error = Assert.ThrowsAny<Exception>(() => JsonSerializer.Serialize(new XDocument(new XElement("chat")), Strict));
        Assert.True(error is NotSupportedException or JsonException, error.ToString());
        Assert.Contains("XDocument", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_reads_reject_unknown_and_missing_required_members_by_name()
    {
        var unknown = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<UpdateA>("""{"value":1}""", Strict));
        Assert.Contains("'value'", unknown.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Invoice>("""{"total":1}""", Strict));
        Assert.Contains("number", missing.Message, StringComparison.Ordinal);

        var constructor = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Registered>("""{"firstName":"Ada"}""", Strict));
        Assert.Contains("lastName", constructor.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tolerant_types_skip_unknown_members()
    {
        var tolerant = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: true, [typeof(UpdateA)]);
        Assert.Equal(0, JsonSerializer.Deserialize<UpdateA>("""{"value":1}""", tolerant)!.Val);
        Assert.Equal(2, JsonSerializer.Deserialize<Lenient>("""{"value":2,"old":1}""", Strict)!.Value);
        var lax = StoredJsonOptions.Create(new(JsonSerializerDefaults.Web), strictReads: false, []);
        Assert.Equal(0, JsonSerializer.Deserialize<UpdateA>("""{"value":1}""", lax)!.Val);
    }

    [Fact]
    public void Public_properties_without_id_on_an_orleans_type_are_stored_too()
    {
        // json-contract.md: System.Text.Json's default, where Orleans would drop them.
        var read = RoundTrip(new UnmarkedProperty { Kept = 1, Unmarked = "u" }, out var json);

        Assert.Equal("""{"kept":1,"unmarked":"u"}""", json);
        Assert.Equal((1, "u"), (read.Kept, read.Unmarked));
    }
}

#pragma warning disable ORLEANS0004 // the point: a public property Orleans does not persist
[GenerateSerializer]
public sealed class UnmarkedProperty
{
    [Id(0)]
    public int Kept { get; set; }

    public string? Unmarked { get; set; }
}
#pragma warning restore ORLEANS0004
