using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>
/// Listens to the engine's activity source and meter for one test. Listeners are process-wide and test classes run in
/// parallel, so spans are sampled only for the test's own table (their names end with it), and measurements are kept
/// only when tagged with the test's <c>db.collection.name</c> (or untagged ones, when asked).
/// </summary>
public sealed class TelemetryCapture : IDisposable
{
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly string? _collection;

    public TelemetryCapture(string table, string? collection = null, params string[] alsoSources)
    {
        _collection = collection;
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == StoreInstruments.Name || alsoSources.Contains(s.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> o) =>
                o.Source.Name != StoreInstruments.Name || o.Name.EndsWith(" " + table, StringComparison.Ordinal)
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStopped = a =>
            {
                if (a.Source.Name == StoreInstruments.Name && a.DisplayName.EndsWith(" " + table, StringComparison.Ordinal))
                {
                    Spans.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);

        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == StoreInstruments.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Keep(i, v, tags));
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Keep(i, v, tags));
        _meters.Start();
    }

    /// <summary>Spans of the engine that ended, in the order they ended.</summary>
    public ConcurrentQueue<Activity> Spans { get; } = new();

    /// <summary>Measurements of the test's collection.</summary>
    public ConcurrentQueue<Measured> Measurements { get; } = new();

    public IEnumerable<Activity> SpansOf(string operation)
        => Spans.Where(s => (string?)s.GetTagItem("db.operation.name") == operation);

    public IEnumerable<Measured> Of(string instrument) => Measurements.Where(m => m.Instrument == instrument);

    /// <summary>Reads the observable gauges now.</summary>
    public void Observe() => _meters.RecordObservableInstruments();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }

    private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            dictionary[tag.Key] = tag.Value;
        }

        if (_collection is null || (dictionary.TryGetValue("db.collection.name", out var c) && (string?)c == _collection)
            || (dictionary.TryGetValue("table", out var t) && ((string?)t)?.Contains(_collection.Split('.')[0], StringComparison.Ordinal) == true))
        {
            Measurements.Enqueue(new Measured(instrument.Name, value, dictionary));
        }
    }

    public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public string? Tag(string key) => Tags.TryGetValue(key, out var v) ? v?.ToString() : null;
    }
}
