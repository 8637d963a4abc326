using System.Diagnostics;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>
/// One engine operation, measured and traced: a span on <see cref="StoreInstruments.ActivitySource"/> with the
/// OpenTelemetry database attributes, and the duration histogram. End it exactly once with <see cref="Succeeded"/>,
/// <see cref="Conflicted"/> or <see cref="Failed"/>.
/// </summary>
/// <remarks>
/// Like Npgsql's activity source: when nothing listens, <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns <c>null</c> without allocating, and no tag is built; the only cost is a timestamp.
/// </remarks>
internal struct StoreOperation
{
    private readonly string _name;
    private readonly string _collection;
    private readonly long _started;
    private bool _ended;

    private StoreOperation(string name, string collection, Activity? activity)
    {
        _name = name;
        _collection = collection;
        _started = StoreInstruments.Start();
        Activity = activity;
    }

    /// <summary>The operation's span, or <c>null</c> when nobody listens.</summary>
    public Activity? Activity { get; }

    /// <summary>Starts <paramref name="name"/> (e.g. <c>journal.commit</c>) on <paramref name="store"/>'s table.</summary>
    /// <param name="name">Operation name, also the span's <c>db.operation.name</c>.</param>
    /// <param name="store">The table the operation works on.</param>
    /// <param name="stream">The stream, state id or target the operation is about, if any.</param>
    /// <param name="kind">The span's kind: <see cref="ActivityKind.Client"/> for database calls.</param>
    /// <param name="parent">An explicit parent (a stored trace context); default: <see cref="System.Diagnostics.Activity.Current"/>.</param>
    /// <param name="links">Links to other spans (the commits a reaction batch handles).</param>
    public static StoreOperation Start(
        string name,
        IOperationTarget store,
        string? stream = null,
        ActivityKind kind = ActivityKind.Client,
        ActivityContext parent = default,
        IEnumerable<ActivityLink>? links = null)
    {
        var activity = StoreInstruments.ActivitySource.HasListeners()
            ? StoreInstruments.ActivitySource.StartActivity(kind, parent, links: links, name: name + " " + store.Table)
            : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "postgresql");
            activity.SetTag("db.namespace", store.Database);
            activity.SetTag("db.collection.name", store.CollectionName);
            activity.SetTag("db.operation.name", name);
            if (stream is not null)
            {
                activity.SetTag("orleanspgstore.stream", stream);
            }
        }

        return new StoreOperation(name, store.CollectionName, activity);
    }

    /// <summary>Adds a tag to the span when it records data (generic, so nothing is boxed when nobody listens).</summary>
    public readonly void Tag<T>(string key, T value)
    {
        if (Activity is { IsAllDataRequested: true })
        {
            Activity.SetTag(key, value);
        }
    }

    /// <summary>The operation completed.</summary>
    public void Succeeded() => End("ok", null);

    /// <summary>The operation met an optimistic-concurrency conflict: an outcome, not a fault.</summary>
    public void Conflicted()
    {
        Tag("orleanspgstore.outcome", "conflict");
        End("conflict", null);
        StoreInstruments.Conflict(_name, _collection);
    }

    /// <summary>The operation failed with <paramref name="exception"/>: recorded on the span (status, exception event).</summary>
    public void Failed(Exception exception) => End("error", exception);

    /// <summary>Ends the operation as <see cref="Succeeded"/> unless it already ended (an enumeration left early).</summary>
    public void Complete() => End("ok", null);

    private void End(string status, Exception? exception)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        StoreInstruments.Record(_name, _collection, _started, status, exception);
        if (Activity is null)
        {
            return;
        }

        if (exception is not null)
        {
            Activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            if (Activity.IsAllDataRequested)
            {
                Activity.SetTag("error.type", exception.GetType().FullName);
                Activity.AddException(exception);
            }
        }

        Activity.Dispose();
    }
}

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
