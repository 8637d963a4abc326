using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Journal;

/// <summary>
/// Listens for the commit notifications of one events table on a dedicated connection. When the connection is
/// lost it reconnects with capped exponential backoff (100 ms doubling to 10 s) and carries on; notifications sent
/// meanwhile are lost, which is fine: they are hints, and polling finds every commit.
/// </summary>
internal sealed class CommitListener : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    // An outage longer than this needs a person (the database is gone, not blinking): logged once at Error.
    private static readonly TimeSpan OutageWorthAnError = TimeSpan.FromMinutes(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _channel;
    private readonly string _instanceId;
    private readonly Action<CommitNotification> _onCommit;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private NpgsqlConnection? _connection;
    private int _disposed;

    internal CommitListener(NpgsqlDataSource dataSource, string channel, string instanceId, Action<CommitNotification> onCommit, ILogger logger)
    {
        _dataSource = dataSource;
        _channel = channel;
        _instanceId = instanceId;
        _onCommit = onCommit;
        _logger = logger;
    }

    /// <summary>How many times the listener has (re)connected; 1 after the first successful LISTEN.</summary>
    public int Connections { get; private set; }

    /// <summary>Whether the LISTEN connection is up right now (false while it reconnects, and after disposal).</summary>
    public bool IsConnected => _connection is not null;

    /// <summary>Starts listening; completes once the first LISTEN is in place (or the token is cancelled).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop ??= Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        await _firstListen.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The server process of the current LISTEN connection (fault tests terminate it); 0 while reconnecting.</summary>
    internal int BackendProcessId => _connection?.ProcessID ?? 0;

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        var failures = 0;
        var outageStarted = 0L;
        var escalated = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN \"{_channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                }

                _connection = connection;
                StoreInstruments.ListenerConnected(true);
                Connections++;
                backoff = TimeSpan.FromMilliseconds(100);
                if (failures > 0)
                {
                    _logger.ListenerRestored(_channel, failures, Durations.Format(System.Diagnostics.Stopwatch.GetElapsedTime(outageStarted)));
                    (failures, escalated) = (0, false);
                }

                _firstListen.TrySetResult();
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        if (!await connection.WaitAsync(KeepAlive, stop).ConfigureAwait(false))
                        {
                            // Quiet for a while: make sure the connection is still alive.
                            await using var ping = new NpgsqlCommand("SELECT 1", connection);
                            await ping.ExecuteScalarAsync(stop).ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    _connection = null;
                    StoreInstruments.ListenerConnected(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Calm logs: the first failure of an outage with its stack, then one Debug line per attempt, one Error
                // if the outage outlasts a minute, one Information when it is over.
                StoreInstruments.Fault("listener");
                if (failures++ == 0)
                {
                    outageStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                    _logger.ListenerReconnecting(_channel, Durations.Format(backoff), e);
                }
                else
                {
                    _logger.ListenerStillReconnecting(_channel, failures, e.Message, Durations.Format(backoff));
                    var down = System.Diagnostics.Stopwatch.GetElapsedTime(outageStarted);
                    if (!escalated && down >= OutageWorthAnError)
                    {
                        escalated = true;
                        _logger.ListenerDown(_channel, Durations.Format(down), failures, e.Message);
                    }
                }

                try
                {
                    await Task.Delay(backoff, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs args)
    {
        NotificationPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(args.Payload, JournalJsonContext.Default.NotificationPayload);
        }
        catch (JsonException)
        {
            return;
        }

        if (payload is null || payload.By == _instanceId)
        {
            return;
        }

        try
        {
            _onCommit(new CommitNotification(payload.Stream, Local: false));
        }
        catch (Exception e)
        {
            _logger.ListenerCallbackFailed(_channel, e);
        }
    }

    /// <summary>Stops listening and closes the connection. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}

/// <summary>A hint that a commit landed in a stream: wake up and read. Delivery is best-effort; polling stays the safety net.</summary>
/// <param name="Stream">The stream committed to.</param>
/// <param name="Local">True when the commit came from this process (raised directly, not through PostgreSQL).</param>
internal sealed record CommitNotification(string Stream, bool Local);
