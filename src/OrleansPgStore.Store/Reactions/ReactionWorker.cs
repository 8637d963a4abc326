using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// Runs a <see cref="ReactionLoop"/> in the background: cycles back to back while there is work, and when idle
/// sleeps until a commit wakes it (this process's commits directly; other processes' through LISTEN/NOTIFY when
/// listening is on) or the poll interval passes. Notifications are only hints: polling stays the
/// safety net.
/// </summary>
public sealed class ReactionWorker : IAsyncDisposable
{
    // Short: a failing cycle means claiming itself fails (discovery failures no longer fail it), and a server that
    // comes back (a crash restarts in about a second) or a storm of killed connections that ends should cost a fraction
    // of a second of stall, not the backoff's: retrying twice a second while the server is away costs next to nothing.
    private static readonly TimeSpan MaxErrorDelay = TimeSpan.FromMilliseconds(500);

    // Appends in flight finish within milliseconds; a settling feed is worth another look this soon. One that stays
    // held back (a slow append) is looked at less and less often, up to the poll interval: no 2 ms spin.
    internal static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(2);
    internal static readonly TimeSpan MaxSettleDelay = TimeSpan.FromMilliseconds(250);

    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private CommitListener? _listener;
    private Task? _running;
    private int _stopped;

    private long _handled;
    private readonly ReactionLoop loop;
    private readonly JournalStore journal;
    private readonly bool listen;

    /// <summary>A worker running <paramref name="loop"/>; <see cref="PgStore.CreateReactionWorker"/> builds one.</summary>
    /// <param name="loop">The loop to run.</param>
    /// <param name="journal">The journal whose commits wake the worker.</param>
    /// <param name="listen">Also listen for other processes' commits (they must commit with NotifyOnCommit).</param>
    /// <param name="loggerFactory">Logging; none when <c>null</c>.</param>
    internal ReactionWorker(ReactionLoop loop, JournalStore journal, bool listen = false, ILoggerFactory? loggerFactory = null)
    {
        this.loop = loop;
        this.journal = journal;
        this.listen = listen;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Reactions");
    }

    /// <summary>The loop's lease-holder identity.</summary>
    public string Holder => loop.Holder;

    /// <summary>Cycles that did some work since start.</summary>
    public long BusyCycles { get; private set; }

    /// <summary>Events handed to handlers (projected and committed, for projections) since start.</summary>
    public long HandledEvents => Interlocked.Read(ref _handled);

    /// <summary>
    /// How many times the worker's commit listener has (re)connected: 1 once listening, more after it healed a lost
    /// connection; 0 when not listening.
    /// </summary>
    public int ListenerConnections => _listener?.Connections ?? 0;

    /// <summary>Starts the worker (and its listener, which is connected when this returns).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_running is not null)
        {
            return;
        }

        journal.Committed += OnCommitted;
        if (listen)
        {
            _listener = journal.CreateCommitListener(OnCommitted);
            await _listener.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        _running = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Wakes an idle worker now.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake or about to be.
        }
    }

    /// <summary>Stops the worker, waiting up to <see cref="ReactionOptions.StopTimeout"/> for the cycle in flight. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        journal.Committed -= OnCommitted;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_running is not null && await Task.WhenAny(_running, Task.Delay(loop.Options.StopTimeout)).ConfigureAwait(false) == _running)
        {
            // Stopped for good: hand the discovery and any claimed targets over now rather than when their leases run out.
            try
            {
                using var timeout = new CancellationTokenSource(loop.Options.StopTimeout);
                await loop.ReleaseAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.ReleaseFailed(loop.Holder, e);
            }
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
    }

    private void OnCommitted(CommitNotification notification) => Wake();

    /// <summary>Doubles a settle delay, up to <see cref="MaxSettleDelay"/> and never beyond the poll interval.</summary>
    internal static TimeSpan NextSettleDelay(TimeSpan delay, TimeSpan pollInterval)
        => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Min(MaxSettleDelay.Ticks, Math.Max(pollInterval.Ticks, SettleDelay.Ticks))));

    private async Task RunAsync(CancellationToken stop)
    {
        var errorDelay = TimeSpan.FromMilliseconds(100);
        var settleDelay = SettleDelay;
        var outage = new Outage();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var result = await loop.RunCycleAsync(stop).ConfigureAwait(false);
                errorDelay = TimeSpan.FromMilliseconds(100);
                outage.Reset();
                Interlocked.Add(ref _handled, result.Handled);
                var lookAgainSoon = result.Settling || result.Contended;
                settleDelay = lookAgainSoon ? settleDelay : SettleDelay;
                if (!result.Idle)
                {
                    BusyCycles++;
                    continue;
                }

                if (lookAgainSoon)
                {
                    await _wake.WaitAsync(settleDelay, stop).ConfigureAwait(false);
                    settleDelay = NextSettleDelay(settleDelay, loop.Options.PollInterval);
                    continue;
                }

                await _wake.WaitAsync(loop.Options.PollInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database may be restarting: keep trying, with a capped backoff.
                _logger.CycleFailed(loop.Holder, errorDelay.TotalMilliseconds, outage, outage.Failed(), e);
                try
                {
                    await Task.Delay(errorDelay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, MaxErrorDelay.Ticks));
            }
        }
    }
}
