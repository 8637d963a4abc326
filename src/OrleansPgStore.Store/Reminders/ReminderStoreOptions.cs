using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Reminders;

/// <summary>Settings of a <see cref="ReminderStore"/>.</summary>
internal sealed class ReminderStoreOptions : StoreOptions
{
    /// <summary>The reminders table. Defaults to <c>orleans_reminders</c>.</summary>
    public override string Table { get; set; } = "orleans_reminders";
}
