namespace OrleansPgStore.Store.Leasing;

/// <summary>A holder quarantining a poison target: the handled prefix and the error that stopped it.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Holder">The holder; the block is dropped unless it still holds the lease.</param>
/// <param name="At">The watermark to keep: the position of the last event handled before the failure.</param>
/// <param name="Error">The error text, kept for operators.</param>
internal sealed record LeaseBlock(string Stream, string Holder, long At, string Error);
