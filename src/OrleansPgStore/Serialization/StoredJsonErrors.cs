using System.Text.Json;

namespace OrleansPgStore.Serialization;

/// <summary>How a JSON error reads in our messages: System.Text.Json puts the path to the member in the message only
/// when it wrote the message itself; a converter's own message gets it here.</summary>
internal static class StoredJsonErrors
{
    public static string Describe(Exception e)
        => e is JsonException { Path: { } path } && !e.Message.Contains("Path: ", StringComparison.Ordinal)
            ? $"{e.Message} Path: {path}."
            : e.Message;
}
