namespace OrleansPgStore.Store.Schema;

/// <summary>Writes a table's DDL from its columns: the <c>CREATE TABLE</c>, and the upgrade of an older table.</summary>
internal static class TableColumns
{
    /// <summary><c>CREATE TABLE IF NOT EXISTS</c> with the columns aligned for reading.</summary>
    public static string CreateTable(string qualifiedTable, IReadOnlyList<TableColumn> columns)
    {
        var width = columns.Max(c => c.Name.Length);
        var lines = columns.Select(c => $"    {c.Name.PadRight(width)} {c.Type,-11} {c.Constraints}".TrimEnd());
        return $"CREATE TABLE IF NOT EXISTS {qualifiedTable} (\n{string.Join(",\n", lines)}\n);";
    }

    /// <summary>
    /// Adds the columns a table created by an older release lacks (existing rows take their defaults). The catalog is
    /// checked first, so seeding an up-to-date table never takes the exclusive lock an <c>ALTER TABLE</c> needs and
    /// never waits behind a long-running reader.
    /// </summary>
    /// <param name="qualifiedTable">The schema-qualified, quoted table; its identifiers are validated, so it can sit in a literal.</param>
    /// <param name="columns">The table's columns; those that can be added are checked.</param>
    public static string AddMissing(string qualifiedTable, IReadOnlyList<TableColumn> columns)
    {
        var added = columns.Where(c => c.CanBeAdded).ToList();
        var names = string.Join(", ", added.Select(c => $"'{c.Name}'"));
        var alter = string.Join(",\n", added.Select(c => $"            ADD COLUMN IF NOT EXISTS {c.Name} {c.Type} {c.Constraints}".TrimEnd()));
        return $"""
            DO $upgrade$
            BEGIN
                IF (SELECT count(*) FROM pg_attribute
                    WHERE attrelid = '{qualifiedTable}'::regclass AND NOT attisdropped AND attname IN ({names})) < {added.Count} THEN
                    ALTER TABLE {qualifiedTable}
            {alter};
                END IF;
            END
            $upgrade$;
            """;
    }
}
