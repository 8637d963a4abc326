using System.Text.Json.Serialization;

namespace OrleansPgStore.Store.Journal;

/// <summary>Source-generated JSON for the metadata the journal stores itself.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EventCausation))]
[JsonSerializable(typeof(NotificationPayload))]
internal sealed partial class JournalJsonContext : JsonSerializerContext;
