using System.Text;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>
/// Schema and table names are the only configuration that reaches SQL text: every store and every published-SQL
/// entry point accepts exactly the names PostgreSQL treats literally (letters, digits, '_'; not starting with a
/// digit; at most 63) and always quotes them. (The fixed injection cases are in SeedAndDropTests.)
/// </summary>
public sealed class IdentifierFuzzTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const int Seed = 1_009;
    private static readonly int Names = 2_000 * Soak.Factor;

    [Fact]
    public void Random_names_are_accepted_exactly_when_they_are_plain_identifiers_and_then_always_quoted()
    {
        var random = new Random(Seed);
        var accepted = 0;
        foreach (var name in RandomNames(random).Take(Names).Concat(Edges))
        {
            var plain = IsPlainIdentifier(name);
            foreach (var (what, create) in Entrances(name))
            {
                if (plain)
                {
                    var qualified = create();
                    Assert.Contains($"\"{name}\"", qualified);
                    accepted++;
                }
                else
                {
                    var error = Assert.Throws<ArgumentException>(() => create());
                    Assert.Contains(what, error.Message);
                }
            }
        }

        Assert.True(accepted > 1000, "the fuzz should accept plenty of names too");
    }

    [Theory]
    [InlineData("Mixed_Case")]
    [InlineData("_leading_underscore")]
    [InlineData("t123456789012345678901234567890123456789012345678901234567890ab")]
    public async Task Accepted_names_seed_tables_by_exactly_that_name(string table)
    {
        await using var journal = await db.JournalAsync(table);
        await journal.CommitAsync("s", Events.Many(1));

        Assert.Equal(1, await db.Schema.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE schemaname = @s AND tablename = @t", ("s", db.Name), ("t", table)));
        Assert.Equal(1, await db.CountAsync(table));
    }

    // The edges a regular expression gets wrong: a final newline passes "^...$" in .NET.
    private static readonly string[] Edges =
    [
        "events\n", "events\r\n", "\nevents", "ev\nents", "events\0", "events ", " events", "événements", "ｅvents", "events\u200b",
        "a", "_", "A1", "1a", "", new string('a', 63), new string('a', 64), "x\"; drop table y; --", "x'; --", "x\\", "x$y", "x-y",
    ];

    /// <summary>Each way a schema or table name enters the engine, and the text it produces from it.</summary>
    private IEnumerable<(string What, Func<string> Create)> Entrances(string name)
    {
        // A borrowed data source: the stores own nothing that needs disposing.
        var ds = db.Schema.DataSource;
        yield return ("Table", () => new JournalStore(new JournalStoreOptions { DataSource = ds, Table = name }).QualifiedTable);
        yield return ("Schema", () => new JournalStore(new JournalStoreOptions { DataSource = ds, Schema = name }).QualifiedTable);
        yield return ("Table", () => new DurableStateStore(new DurableStateStoreOptions { DataSource = ds, Table = name }).QualifiedTable);
        yield return ("Schema", () => new LeaseStore(new LeaseStoreOptions { DataSource = ds, Schema = name }).QualifiedTable);
        yield return ("schema", () => JournalStore.SchemaSql(schema: name));
        yield return ("Table", () => JournalStore.SchemaSql(table: name));
        yield return ("table", () => DurableStateStore.SchemaSql(table: name));
        yield return ("Table", () => LeaseStore.SchemaSql(table: name));
    }

    /// <summary>The rule, written out without a regular expression.</summary>
    private static bool IsPlainIdentifier(string name)
        => name.Length is > 0 and <= 63
           && (char.IsAsciiLetter(name[0]) || name[0] == '_')
           && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static IEnumerable<string> RandomNames(Random random)
    {
        const string plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
        const string hostile = "\"';-\\$ .\n\r\t\0/*()=ü中😀";
        while (true)
        {
            var text = new StringBuilder();
            for (var i = random.Next(0, 70); i > 0; i--)
            {
                text.Append(random.Next(12) == 0 ? hostile[random.Next(hostile.Length)] : plain[random.Next(plain.Length)]);
            }

            if (random.Next(10) == 0)
            {
                text.Append('\n');
            }

            yield return text.ToString();
        }
    }
}
