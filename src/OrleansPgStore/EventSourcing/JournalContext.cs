using System.Text.Json;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>What every adaptor of one log-consistency provider shares.</summary>
internal sealed record JournalContext(
    string ProviderName,
    JournalStore Journal,
    EventTypeNames TypeNames,
    JsonSerializerOptions Json,
    ILogger Logger);
