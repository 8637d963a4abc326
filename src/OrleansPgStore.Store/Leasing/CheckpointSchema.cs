using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// The DDL of the checkpoints table that belongs to a subscriptions table: the reaction groups' discovery checkpoints
/// (<c>discovery:{group}</c>) and the retention turns (<c>retention:{events table}</c>). A key space of their own, so
/// that every stream name the journal accepts can be a target in the subscriptions table.
/// </summary>
internal static class CheckpointSchema
{
    /// <summary>Only what those rows use: a position (discovery), a lease and a resume point (retention).</summary>
    public static readonly IReadOnlyList<TableColumn> Columns =
    [
        new("name", "text", "NOT NULL PRIMARY KEY"),
        new("at", "bigint", "NOT NULL DEFAULT -1"),
        new("leased_by", "text"),
        new("leased_until", "timestamptz"),
        new("resume_from", "timestamptz"),
    ];

    /// <summary>The checkpoints table of <paramref name="subscriptionsTable"/>, quoted and qualified.</summary>
    public static string QualifiedTable(string quotedSchema, string subscriptionsTable)
        => quotedSchema + "." + SqlIdentifier.Quote(CheckpointTable.Name(subscriptionsTable), "Checkpoints table");

    /// <summary>
    /// Creates the table when it is missing, and then, once, moves the rows an older release kept in the subscriptions
    /// table under reserved names (<c>$checkpoint:{group}</c>, <c>$retention:{events table}</c>) over with their
    /// positions, leases and resume points. Only when the table is created: from then on, a stream of that name in the
    /// subscriptions table is a target like any other.
    /// </summary>
    /// <param name="quotedSchema">The quoted schema.</param>
    /// <param name="subscriptionsTable">The subscriptions table (created before this runs).</param>
    public static string Create(string quotedSchema, string subscriptionsTable)
    {
        var subscriptions = quotedSchema + "." + SqlIdentifier.Quote(subscriptionsTable, "Table");
        var checkpoints = QualifiedTable(quotedSchema, subscriptionsTable);
        return $"""
            DO $checkpoints$
            BEGIN
                IF to_regclass('{checkpoints}') IS NULL THEN
                    {TableColumns.CreateTable(checkpoints, Columns).ReplaceLineEndings("\n        ")}
                    INSERT INTO {checkpoints} (name, at, leased_by, leased_until, resume_from)
                    SELECT CASE WHEN left(stream, 12) = '$checkpoint:' THEN 'discovery:' || substr(stream, 13)
                                ELSE 'retention:' || substr(stream, 12) END,
                           at, leased_by, leased_until, due
                    FROM {subscriptions}
                    WHERE left(stream, 12) = '$checkpoint:' OR left(stream, 11) = '$retention:';
                    DELETE FROM {subscriptions} WHERE left(stream, 12) = '$checkpoint:' OR left(stream, 11) = '$retention:';
                END IF;
            END
            $checkpoints$;
            """;
    }
}
