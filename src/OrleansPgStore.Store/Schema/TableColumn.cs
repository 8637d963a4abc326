namespace OrleansPgStore.Store.Schema;

/// <summary>A column of a store's table, as its <c>CREATE TABLE</c> declares it.</summary>
/// <param name="Name">The column name.</param>
/// <param name="Type">The column type.</param>
/// <param name="Constraints">Constraints and default, e.g. <c>NOT NULL DEFAULT now()</c>.</param>
internal sealed record TableColumn(string Name, string Type, string Constraints = "")
{
    /// <summary>
    /// Whether an existing table can gain this column: it has a default or may be null, so existing rows get a value.
    /// Key and payload columns cannot (and have existed since the first release).
    /// </summary>
    public bool CanBeAdded => !Constraints.Contains("PRIMARY KEY", StringComparison.Ordinal)
                              && (!Constraints.Contains("NOT NULL", StringComparison.Ordinal) || Constraints.Contains("DEFAULT", StringComparison.Ordinal));
}
