namespace OrleansPgStore.Store.Journal;

/// <summary>A page of the settled feed.</summary>
/// <param name="Events">The events, in position order.</param>
/// <param name="SettledBefore">
/// Every position below this was final when the page was read. When the page is not full, a reader has seen every
/// matching event below it and may move its checkpoint up to <c>SettledBefore - 1</c>.
/// </param>
/// <param name="Settling">
/// True when matching events are already visible beyond <paramref name="SettledBefore"/>: commits below them are still
/// in flight, and they will be readable within moments.
/// </param>
internal sealed record FeedPage(IReadOnlyList<RecordedEvent> Events, long SettledBefore, bool Settling);
