using System.Text.Json.Nodes;

namespace OrleansPgStore.Store.Journal;

/// <summary>A stored event after upcasting: the name and schema version to read it as, and its payload.</summary>
/// <param name="Name">The event name the payload now has (a rename may have changed it).</param>
/// <param name="SchemaVersion">The payload's schema version after upcasting (1 for unstamped payloads).</param>
/// <param name="Payload">The payload, without its schema stamp.</param>
internal sealed record UpcastEvent(string Name, int SchemaVersion, JsonObject Payload);
