using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>What the catalog says about a table and what it holds, as text that compares across tables.</summary>
public static class TableShape
{
    /// <summary>Columns (by name: type, nullability, default) and indexes, with the table's own name replaced by <c>T</c>.</summary>
    public static async Task<string> DescribeAsync(PostgresTestSchema schema, string table, string? schemaName = null)
    {
        schemaName ??= schema.Name;
        var shape = await schema.ScalarAsync<string>("""
            SELECT (SELECT string_agg(format('%s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                             pg_get_expr(d.adbin, d.adrelid)), E'\n' ORDER BY a.attname)
                    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                   || E'\n' ||
                   (SELECT string_agg(pg_get_indexdef(i.indexrelid), E'\n' ORDER BY pg_get_indexdef(i.indexrelid))
                    FROM pg_index i WHERE i.indrelid = c.oid)
                   || E'\n' ||
                   coalesce((SELECT string_agg(pg_get_constraintdef(k.oid), E'\n' ORDER BY pg_get_constraintdef(k.oid))
                             FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c'), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relname = @table
            """, ("schema", schemaName), ("table", table));
        Assert.NotNull(shape);
        return shape.Replace(table, "T", StringComparison.Ordinal);
    }

    /// <summary>Every row of the table as text, in primary-key order.</summary>
    public static async Task<string> RowsAsync(PostgresTestSchema schema, string table, string orderBy, string? schemaName = null)
        => await schema.ScalarAsync<string>(
               $"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY {orderBy}), '') FROM \"{schemaName ?? schema.Name}\".\"{table}\" t")
           ?? "";
}
