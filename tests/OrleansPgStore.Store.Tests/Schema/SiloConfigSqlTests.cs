using OrleansPgStore.Store.Clustering;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reminders;
using OrleansPgStore.Store.State;
using OrleansPgStore.TestSupport;

namespace OrleansPgStore.Store.Tests.Schema;

/// <summary>
/// silo-config/sql holds the DDL the engine applies, for DBAs who create schemas by hand; it must never drift.
/// Run the tests with ORLEANSPGSTORE_UPDATE_SQL=1 to rewrite the files after changing the DDL.
/// </summary>
public sealed class SiloConfigSqlTests
{
    public static TheoryData<string, string> Scripts() => new()
    {
        { "journal.sql", JournalStore.SchemaSql() },
        { "durable_state.sql", DurableStateStore.SchemaSql() },
        { "subscriptions.sql", LeaseStore.SchemaSql() },
        { "clustering.sql", MembershipStore.SchemaSql() },
        { "reminders.sql", ReminderStore.SchemaSql() },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void The_published_sql_is_exactly_what_seed_applies(string file, string sql)
    {
        var path = Path.Combine(RepositoryRoot.Path, "silo-config", "sql", file);
        var header = $"-- {file}: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.\n" +
                     "-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).\n";
        if (Environment.GetEnvironmentVariable("ORLEANSPGSTORE_UPDATE_SQL") == "1")
        {
            File.WriteAllText(path, header + sql);
        }

        Assert.Equal(header + sql, File.ReadAllText(path));
    }

}
