namespace OrleansPgStore.Store;

/// <summary>The tables of a <see cref="PgStore"/>, for seeding only some of them (a provider that uses one table).</summary>
[Flags]
internal enum StoreTables
{
    Events = 1,
    States = 2,
    Subscriptions = 4,
    All = Events | States | Subscriptions,
}
