namespace OrleansPgStore.Options;

/// <summary>Settings of the PostgreSQL reminder service (<c>UsePostgresReminderService</c>).</summary>
/// <remarks>
/// The JSON settings inherited from <see cref="PostgresStoreOptions"/> do not apply: reminder rows are columns. The
/// silo creates the table when the reminder service starts unless <see cref="PostgresStoreOptions.SeedSchema"/> is off.
/// </remarks>
public sealed class PostgresReminderOptions : PostgresStoreOptions
{
    /// <summary>The reminders table. Defaults to <c>orleans_reminders</c>.</summary>
    public string Table { get; set; } = "orleans_reminders";
}
