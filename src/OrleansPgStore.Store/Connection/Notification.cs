namespace OrleansPgStore.Store.Connection;

/// <summary>A NOTIFY: the channel and the payload (the journal builds the work announcement, the lease store sends it).</summary>
internal readonly record struct Notification(string Channel, string Payload);
