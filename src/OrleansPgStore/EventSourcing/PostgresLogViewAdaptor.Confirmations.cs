using Microsoft.Extensions.Logging;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Honest confirmations: a write that fails for good takes its events out of the queue and fails every confirm that
/// was waiting for them, so an exception that reaches a caller means its events are never committed afterwards.
/// </summary>
/// <remarks>
/// <para>Orleans' base class knows no failed write: its pending queue keeps every entry until a write succeeds, and an
/// exception from <c>WriteAsync</c> fails the worker cycle (wrapped twice) while the entries stay queued for the next
/// cycle. So <c>WriteAsync</c> never throws here: on a failure it reports the whole queue as written, which removes it,
/// without applying anything to the confirmed view, and hands the failure to the confirms waiting for those events.
/// The base class then also calls <c>OnViewChanged(false, true)</c> although the confirmed view did not change.</para>
/// <para>Everything queued is dropped, not only the batch in flight: events raised behind a failed one must not be
/// committed without it, and a confirm cannot tell which of them its caller raised.</para>
/// </remarks>
internal sealed partial class PostgresLogViewAdaptor<TLogView, TLogEntry>
{
    // Events raised so far by this activation; the next event's sequence number.
    private long _raised;

    // Confirms (and refreshes) waiting for queued events; null while there are none.
    private List<Confirmation>? _confirmations;

    // A failure no confirm was waiting for (the events were raised and the caller went on): the next confirm or
    // refresh that has no events of its own queued reports it, unless a later write commits first.
    private Exception? _unobservedFailure;

    /// <summary>
    /// Waits until the events raised so far are committed, and fails, unwrapped, when a write gave them up: then none
    /// of them is committed later (<see cref="JournalWriteOutcomeUnknownException"/> says when that is not known).
    /// </summary>
    public new async Task ConfirmSubmittedEntries()
    {
        var confirmation = Watch();
        if (confirmation is null)
        {
            ThrowUnobservedFailure();
            return;
        }

        try
        {
            await base.ConfirmSubmittedEntries();
        }
        finally
        {
            _confirmations!.Remove(confirmation);
        }

        confirmation.ThrowIfFailed();
    }

    /// <summary>Starts watching the events queued now; null when none are.</summary>
    private Confirmation? Watch()
    {
        if (GetNumberPendingUpdates() == 0)
        {
            return null;
        }

        var confirmation = new Confirmation(_raised);
        (_confirmations ??= []).Add(confirmation);
        return confirmation;
    }

    private void ThrowUnobservedFailure()
    {
        if (_unobservedFailure is { } failure)
        {
            _unobservedFailure = null;
            throw failure;
        }
    }

    /// <summary>
    /// Gives up every queued event: fails the confirms and conditional raises waiting for them, and returns how many
    /// there are, for <c>WriteAsync</c> to report as written so the base class removes them from its queue.
    /// </summary>
    private int Drop(Exception failure)
    {
        _writeStarted = null;
        var dropped = GetCurrentBatchOfUpdates();
        var observed = false;
        foreach (var entry in dropped)
        {
            if (entry.ResultPromise is { } promise)
            {
                // The base class would resolve it with true: it counts the entry as written.
                entry.ResultPromise = null;
                observed |= promise.TrySetException(failure);
            }
        }

        var first = dropped[0].Sequence;
        foreach (var confirmation in _confirmations ?? [])
        {
            observed |= confirmation.Fail(first, failure);
        }

        _unobservedFailure = observed ? null : failure;
        LogDropped(_context.Logger, failure, dropped.Length, Services.GrainId.ToString(), _stream, failure.Message);
        return dropped.Length;
    }

    /// <summary>A confirm waiting for the events raised before it, and the failure that gave them up, if any.</summary>
    private sealed class Confirmation(long raisedBefore)
    {
        private Exception? _failure;

        /// <summary>Fails the confirm when the dropped events, from sequence <paramref name="first"/> on, include one of its own.</summary>
        public bool Fail(long first, Exception failure)
        {
            if (_failure is not null || first >= raisedBefore)
            {
                return false;
            }

            _failure = failure;
            return true;
        }

        public void ThrowIfFailed()
        {
            if (_failure is not null)
            {
                throw _failure;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up {Count} queued event(s) of {GrainId} (stream {Stream}); they are never retried: {Reason}")]
    private static partial void LogDropped(ILogger logger, Exception exception, int count, string grainId, string stream, string reason);
}
