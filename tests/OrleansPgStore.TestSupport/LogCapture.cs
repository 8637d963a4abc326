using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansPgStore.TestSupport;

/// <summary>
/// Keeps every log entry written through it, as an <see cref="ILoggerFactory"/> (the engine takes one) or as an
/// <see cref="ILoggerProvider"/> (a silo's logging takes one): level, category, event id, message and exception, and
/// the same entry formatted as one line for <c>Contains</c>-style assertions.
/// </summary>
public sealed class LogCapture : ILoggerFactory, ILoggerProvider
{
    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <summary>Each entry as "Level category: message exception".</summary>
    public IEnumerable<string> Messages => Entries.Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception}");

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public sealed record Entry(LogLevel Level, string Category, int EventId, string Message, Exception? Exception)
    {
        /// <summary>When the entry was written.</summary>
        public DateTime At { get; } = DateTime.UtcNow;
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => entries.Enqueue(new Entry(logLevel, category, eventId.Id, formatter(state, exception), exception));
    }
}
