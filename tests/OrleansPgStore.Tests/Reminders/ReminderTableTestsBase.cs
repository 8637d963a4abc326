// Ported from dotnet/orleans, test/Orleans.Runtime.Internal.Tests/RemindersTest/ReminderTableTestsBase.cs at tag v10.2.2,
// taking main@e558829b's fixes (distinct start times in the parallel upsert, UTC start times, non-legacy grain ids,
// null checks). Every case is kept; the changes: the table comes from the subclass (no connection-string fixture), and
// Orleans' internal RetryHelper is replaced by a small retry with the same attempt counts.
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansPgStore.Tests.Reminders;

public abstract class ReminderTableTestsBase : IAsyncLifetime
{
    private IReminderTable remindersTable = null!;

    protected ReminderTableTestsBase()
    {
        var serviceId = Guid.NewGuid().ToString() + "/foo";
        var clusterId = "test-" + serviceId + "/foo2";
        clusterOptions = Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = serviceId });
    }

    protected IOptions<ClusterOptions> clusterOptions { get; }

    protected IReminderTable RemindersTable => remindersTable;

    public virtual async ValueTask InitializeAsync()
    {
        remindersTable = await CreateRemindersTable();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await remindersTable.StartAsync(cancellation.Token);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await remindersTable.TestOnlyClearTable();
        await DisposeTableAsync();
    }

    protected abstract Task<IReminderTable> CreateRemindersTable();

    protected abstract ValueTask DisposeTableAsync();

    protected async Task RemindersParallelUpsert()
    {
        var upserts = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
        {
            var grainId = MakeTestGrainReference();
            var startAt = DateTime.UtcNow;
            return Task.WhenAll(Enumerable.Range(1, 5).Select(j =>
            {
                var reminder = CreateReminder(grainId, i.ToString());
                reminder.StartAt = startAt.AddMilliseconds(j);
                return RetryOnExceptionAsync(5, async () =>
                {
                    return await remindersTable.UpsertRow(reminder);
                });
            }));
        }));
        Assert.DoesNotContain(upserts, i => i.Distinct().Count() != 5);
    }

    protected async Task ReminderSimple()
    {
        var reminder = CreateReminder(MakeTestGrainReference(), "foo/bar\\#b_a_z?");
        await remindersTable.UpsertRow(reminder);

        var readReminder = await remindersTable.ReadRow(reminder.GrainId, reminder.ReminderName);
        Assert.NotNull(readReminder);

        string? etagTemp = reminder.ETag = readReminder.ETag;

        Assert.Equal(readReminder.ETag, reminder.ETag);
        Assert.Equal(readReminder.GrainId, reminder.GrainId);
        Assert.Equal(readReminder.Period, reminder.Period);
        Assert.Equal(readReminder.ReminderName, reminder.ReminderName);
        Assert.Equal(readReminder.StartAt, reminder.StartAt);
        Assert.NotNull(etagTemp);

        reminder.StartAt = DateTime.UtcNow;
        reminder.ETag = await remindersTable.UpsertRow(reminder);
        Assert.NotNull(reminder.ETag);

        var removeRowRes = await remindersTable.RemoveRow(reminder.GrainId, reminder.ReminderName, etagTemp);
        Assert.False(removeRowRes, "should have failed. Etag is wrong");
        removeRowRes = await remindersTable.RemoveRow(reminder.GrainId, "bla", reminder.ETag);
        Assert.False(removeRowRes, "should have failed. reminder name is wrong");
        removeRowRes = await remindersTable.RemoveRow(reminder.GrainId, reminder.ReminderName, reminder.ETag);
        Assert.True(removeRowRes, "should have succeeded. Etag is right");
        removeRowRes = await remindersTable.RemoveRow(reminder.GrainId, reminder.ReminderName, reminder.ETag);
        Assert.False(removeRowRes, "should have failed. reminder shouldn't exist");
    }

    protected async Task RemindersRange(int iterations = 1000)
    {
        await Task.WhenAll(Enumerable.Range(1, iterations).Select(async i =>
        {
            var grainRef = MakeTestGrainReference();

            await RetryOnExceptionAsync(10, async () =>
            {
                await remindersTable.UpsertRow(CreateReminder(grainRef, i.ToString()));
                return 0;
            });
        }));

        var rows = await remindersTable.ReadRows(0, uint.MaxValue);
        Assert.NotNull(rows);

        Assert.Equal(rows.Reminders.Count, iterations);

        rows = await remindersTable.ReadRows(0, 0);
        Assert.NotNull(rows);

        Assert.Equal(rows.Reminders.Count, iterations);

        var remindersHashes = rows.Reminders.Select(r => r.GrainId.GetUniformHashCode()).ToArray();

        await Task.WhenAll(Enumerable.Range(0, iterations).Select(i =>
        {
            return TestRemindersHashInterval(remindersTable,
                (uint)Random.Shared.Next(int.MinValue, int.MaxValue),
                (uint)Random.Shared.Next(int.MinValue, int.MaxValue),
                remindersHashes);
        }));
    }

    protected static async Task TestRemindersHashInterval(IReminderTable reminderTable, uint beginHash, uint endHash,
        uint[] remindersHashes)
    {
        var rowsTask = reminderTable.ReadRows(beginHash, endHash);
        var expectedHashes = beginHash < endHash
            ? remindersHashes.Where(r => r > beginHash && r <= endHash)
            : remindersHashes.Where(r => r > beginHash || r <= endHash);

        HashSet<uint> expectedSet = new HashSet<uint>(expectedHashes);
        var rows = await rowsTask;
        Assert.NotNull(rows);
        var returnedHashes = rows.Reminders.Select(r => r.GrainId.GetUniformHashCode());
        var returnedSet = new HashSet<uint>(returnedHashes);

        Assert.True(returnedSet.SetEquals(expectedSet));
    }

    protected static ReminderEntry CreateReminder(GrainId grainId, string reminderName)
    {
        var now = DateTime.UtcNow;
        now = new DateTime(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, DateTimeKind.Utc);
        return new ReminderEntry
        {
            GrainId = grainId,
            Period = TimeSpan.FromMinutes(1),
            StartAt = now,
            ReminderName = reminderName
        };
    }

    protected static GrainId MakeTestGrainReference() =>
        GrainId.Create(GrainType.Create("my-remindable-grain"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid(), "foo/bar\\#baz?"));

    // Orleans: RetryHelper.RetryOnExceptionAsync(maxAttempts, RetryOperation.Sigmoid, action).
    private static async Task<T> RetryOnExceptionAsync<T>(int maxAttempts, Func<Task<T>> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch when (attempt < maxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt));
            }
        }
    }
}
