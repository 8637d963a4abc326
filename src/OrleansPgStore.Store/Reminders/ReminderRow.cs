namespace OrleansPgStore.Store.Reminders;

/// <summary>A reminder as stored.</summary>
/// <param name="GrainId">The grain's id, as text.</param>
/// <param name="Name">The reminder's name (unique per grain).</param>
/// <param name="GrainHash">The grain's position on the hash ring (an unsigned 32-bit hash).</param>
/// <param name="StartAt">When the reminder first fires (UTC).</param>
/// <param name="Period">The time between ticks, kept to the tick.</param>
/// <param name="Etag">The row's ETag: a fresh value with every write, never reused.</param>
internal sealed record ReminderRow(string GrainId, string Name, uint GrainHash, DateTime StartAt, TimeSpan Period, long Etag);
