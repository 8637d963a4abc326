namespace OrleansPgStore.Store.Diagnostics;

/// <summary>The table an operation works on, as its span and metrics name it.</summary>
internal interface IOperationTarget
{
    /// <summary>The table's name, unquoted (the span's name ends with it).</summary>
    string Table { get; }

    /// <summary><c>schema.table</c>, unquoted: the <c>db.collection.name</c> of spans and metrics.</summary>
    string CollectionName { get; }

    /// <summary>The database's name (<c>db.namespace</c>).</summary>
    string? Database { get; }
}
