using System.Collections.Concurrent;
using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>
/// Discovery in the database (reactions that target their own streams, lease store on the journal's database): one
/// statement reads the settled feed page, raises the marks and advances the checkpoint. It raises exactly the marks the
/// loop's own mapping raises, never passes an append in flight, never loses a mark to a concurrent discoverer, and is
/// the path really taken (the feed statement is not sent).
/// </summary>
public sealed class DiscoveryInDatabaseTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly string[] Names = ["A", "B", "C", "D", "E", "Z"];

    // Per handled name, the priority and lane of the first reaction that handles it (see Registry): what a target that
    // event registers gets. "E" and "Z" are handled by no reaction.
    private static readonly Dictionary<string, (int Priority, string Lane)> FirstReaction = new()
    {
        ["A"] = (0, ""),
        ["B"] = (5, "fast"),
        ["C"] = (5, "fast"),
        ["D"] = (2, "slow"),
    };

    [Fact]
    public async Task The_database_raises_exactly_the_marks_the_loops_own_mapping_raises_page_by_page()
    {
        await using var journal = await db.JournalAsync("did_corpus_events");
        await using var clientLeases = await db.LeasesAsync("did_corpus_client");
        await using var serverLeases = await db.LeasesAsync("did_corpus_server");
        // Pages of 7 events end mid-stream and mid-commit (commits of 1 to 6 events).
        var options = new ReactionOptions { Name = "corpus", CorrelationBatch = 7 };
        var client = new Side(new ReactionLoop(journal, clientLeases, Registry(clientSide: true), options), clientLeases);
        var server = new Side(new ReactionLoop(journal, serverLeases, Registry(clientSide: false), options), serverLeases);
        var random = new Random(20261207);

        await CommitCorpusAsync(journal, random, commits: 120);
        await InLockstepAsync(journal, client, server);
        Assert.True(server.Pages.Count > 20, $"the corpus was read in {server.Pages.Count - 1} pages");

        // An append in flight holds the fence: the events committed after it (higher positions, already visible) are not
        // read, by either path, until it lands.
        var before = Works(await ExpectedMarksAsync(journal));
        Task<IReadOnlyList<RecordedEvent>> held;
        await using (var gate = await CommitGate.CloseAsync(db.Schema, "did_corpus_events", "NEW.stream = 'held'"))
        {
            held = journal.CommitAsync("held", [Events.Make("A"), Events.Make("D")]);
            await gate.WaitForHeldWriterAsync();
            await CommitCorpusAsync(journal, random, commits: 30);
            await InLockstepAsync(journal, client, server);
            Assert.Equal(before, Works(await MarksAsync(serverLeases)));
            Assert.Equal(before, Works(await MarksAsync(clientLeases)));
        }

        await held;
        await CommitCorpusAsync(journal, random, commits: 10);
        await InLockstepAsync(journal, client, server);
        var expected = Works(await ExpectedMarksAsync(journal));
        Assert.Equal(expected, Works(await MarksAsync(serverLeases)));
        Assert.Contains(expected, m => m.Stream == "held");
        Assert.NotEqual(before, expected);
    }

    [Fact]
    public async Task A_statement_that_marks_a_streams_first_event_or_reads_past_the_fence_is_caught()
    {
        await using var journal = await db.JournalAsync("did_broken_events");
        await CommitCorpusAsync(journal, new Random(7), commits: 40);

        // The statement as built: the marks of the loop's mapping over the pages it read.
        await using (var leases = await db.LeasesAsync("did_broken_ok"))
        {
            var pages = await DriveAsync(journal, leases, sql => sql);
            Assert.Equal(await ExpectedMarksAsync(journal, pages), await MarksAsync(leases));
        }

        // Negative controls: each stream's first event in a page instead of its last; every target at priority 0.
        await using (var leases = await db.LeasesAsync("did_broken_first"))
        {
            var pages = await DriveAsync(journal, leases, sql => Replace(sql, "ORDER BY p.stream, p.position DESC", "ORDER BY p.stream, p.position"));
            Assert.NotEqual(await ExpectedMarksAsync(journal, pages), await MarksAsync(leases));
        }

        await using (var leases = await db.LeasesAsync("did_broken_priority"))
        {
            var pages = await DriveAsync(journal, leases, sql => Replace(sql, "m.position, m.priority, m.lane", "m.position, 0, m.lane"));
            Assert.Equal(Works(await ExpectedMarksAsync(journal, pages)), Works(await MarksAsync(leases)));
            Assert.NotEqual(await ExpectedMarksAsync(journal, pages), await MarksAsync(leases));
        }

        // An append in flight, then more events than a page: the statement as built stops at the append; without the
        // fence (negative control) a full page moves the checkpoint past it, and its event is never marked.
        Func<string, string> noFence = sql => Replace(sql, "AND e.position < f.fence", "");
        await using var fenced = await db.LeasesAsync("did_broken_fenced");
        await using var unfenced = await db.LeasesAsync("did_broken_unfenced");
        await DriveAsync(journal, fenced, sql => sql);
        await DriveAsync(journal, unfenced, noFence);
        await using (var gate = await CommitGate.CloseAsync(db.Schema, "did_broken_events", "NEW.stream = 'held'"))
        {
            var held = journal.CommitAsync("held", [Events.Make("B")]);
            await gate.WaitForHeldWriterAsync();
            await journal.CommitAsync("late", Events.Many(10, "A"));
            await DriveAsync(journal, fenced, sql => sql);
            await DriveAsync(journal, unfenced, noFence);
            await gate.OpenAsync();
            await held;
        }

        await DriveAsync(journal, fenced, sql => sql);
        await DriveAsync(journal, unfenced, noFence);
        var expected = Works(await ExpectedMarksAsync(journal));
        Assert.Contains(expected, m => m.Stream == "held");
        Assert.Equal(expected, Works(await MarksAsync(fenced)));
        Assert.DoesNotContain(await MarksAsync(unfenced), m => m.Stream == "held");
    }

    [Fact]
    public async Task Two_loops_discovering_and_claiming_at_once_while_writers_append_handle_every_event()
    {
        await using var journal = await db.JournalAsync("did_race_events");
        await using var leases = await db.LeasesAsync("did_race_subs");
        var handled = new ConcurrentDictionary<long, int>();
        ReactionLoop Loop(string holder) => new(journal, leases,
            new ReactionRegistry().On("A", (e, _) =>
            {
                handled.AddOrUpdate(e.Position, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            }),
            new ReactionOptions { Name = "race", CorrelationBatch = 16 }, holder: holder);
        var loops = new[] { Loop("one"), Loop("two") };

        var writing = true;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await journal.CommitAsync($"w{w}/{i % 7}", [Events.Make("A", i), Events.Make("E", i), Events.Make("A", i)]);
            }
        })).ToList();
        var cycling = loops.Select(loop => Task.Run(async () =>
        {
            while (Volatile.Read(ref writing))
            {
                await loop.RunCycleAsync();
            }
        })).ToList();
        await Task.WhenAll(writers);
        Volatile.Write(ref writing, false);
        await Task.WhenAll(cycling);
        foreach (var loop in loops.Concat(loops))
        {
            await loop.UntilIdleAsync();
        }

        // Every "A" handled (a lost mark leaves its stream's last events unhandled), and the marks are the journal's.
        var committed = await PositionsAsync(journal, "A");
        Assert.Equal(4 * 40 * 2, committed.Count);
        Assert.Equal(committed, handled.Keys.Order().ToList());
        Assert.Equal(Works(await ExpectedMarksAsync(journal, names: ["A"])), Works(await MarksAsync(leases)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_discovery_that_waits_for_another_workers_advance_compares_with_what_that_one_committed(bool otherWentFurther, bool broken)
    {
        await using var journal = await db.JournalAsync($"did_cas_events_{otherWentFurther}_{broken}");
        await using var leases = await db.LeasesAsync($"did_cas_subs_{otherWentFurther}_{broken}");
        var statement = Statement(journal, leases);
        if (broken)
        {
            // Negative control: a compare-and-set that forgets "below where the page ends" moves the checkpoint back.
            statement = statement with { Sql = Replace(statement.Sql, "AND s.at < excluded.at", "") };
        }

        var committed = await journal.CommitAsync("s", Events.Many(3, "A"));
        Assert.Equal(-1, await leases.ReadCheckpointAsync("g"));

        // Another worker's advance, uncommitted, holds the checkpoint row while this discovery reads its page.
        await using var other = await db.Schema.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        var moved = otherWentFurther ? long.MaxValue - 1 : committed[0].Position;
        await ExecuteAsync(other, transaction, $"UPDATE {leases.CheckpointsTable} SET at = {moved} WHERE name = 'discovery:g'");
        var discovering = leases.DiscoverAsync(statement, "g", from: null, limit: 100, skipAhead: false, announce: null);
        await Eventually.WaitAsync(
            async () => await WaitingDiscoveriesAsync(leases) > 0,
            "the discovery waits for the other advance");
        await transaction.CommitAsync();
        var found = await discovering;

        // Read from -1 (its snapshot), compared with what the other committed: it applies only when that is still below
        // the end of its page (its marks cover the rest); otherwise nothing is written and the position comes back.
        Assert.Equal((-1L, 3), (found.From, found.Read));
        if (broken)
        {
            Assert.True(found.Advance.Advanced);
            Assert.True(await leases.ReadCheckpointAsync("g") < moved);
            return;
        }

        if (otherWentFurther)
        {
            Assert.Equal(new CheckpointAdvance(false, moved), found.Advance);
            Assert.Empty(await MarksAsync(leases));
        }
        else
        {
            Assert.True(found.Advance.Advanced);
            Assert.Equal([new Mark("s", committed[^1].Position, 0, "")], await MarksAsync(leases));
        }

        Assert.Equal(otherWentFurther ? moved : found.To, await leases.ReadCheckpointAsync("g"));
    }

    [Fact]
    public async Task The_first_discovery_of_a_group_creates_the_checkpoint_even_while_another_creates_it()
    {
        await using var journal = await db.JournalAsync("did_create_events");
        await using var leases = await db.LeasesAsync("did_create_subs");
        var statement = Statement(journal, leases);
        var committed = await journal.CommitAsync("s", Events.Many(2, "B"));

        // Another loop's checkpoint read is creating the row, uncommitted: this discovery, which found no row in its
        // snapshot, waits for that insert and then advances the row it created.
        await using var other = await db.Schema.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await ExecuteAsync(other, transaction, $"INSERT INTO {leases.CheckpointsTable} (name) VALUES ('discovery:g')");
        var discovering = leases.DiscoverAsync(statement, "g", from: null, limit: 100, skipAhead: false, announce: null);
        await Eventually.WaitAsync(
            async () => await WaitingDiscoveriesAsync(leases) > 0,
            "the discovery waits for the other insert");
        await transaction.CommitAsync();
        var found = await discovering;

        Assert.True(found.Advance.Advanced);
        Assert.Equal(found.To, await leases.ReadCheckpointAsync("g"));
        Assert.Equal([new Mark("s", committed[^1].Position, 5, "fast")], await MarksAsync(leases));

        // A cached position above -1 whose row is gone (a crash lost it) creates nothing: the caller starts again.
        await db.Schema.ExecuteAsync($"DELETE FROM {leases.CheckpointsTable} WHERE name = 'discovery:g'");
        found = await leases.DiscoverAsync(statement, "g", from: committed[0].Position, limit: 100, skipAhead: true, announce: null);
        Assert.Equal(new CheckpointAdvance(false, -1), found.Advance);
        Assert.Equal(0L, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM {leases.CheckpointsTable} WHERE name = 'discovery:g'"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Discovery_runs_in_the_database_unless_a_reaction_resolves_its_own_targets(bool clientSide)
    {
        var events = $"did_used_events_{clientSide}";
        var subscriptions = $"did_used_subs_{clientSide}";
        await using var journal = await db.JournalAsync(events);
        await using var leases = await db.LeasesAsync(subscriptions);
        using var journalSpans = new TelemetryCapture(events);
        using var leaseSpans = new TelemetryCapture(subscriptions);
        var loop = new ReactionLoop(journal, leases, Registry(clientSide), new ReactionOptions { Name = "used" });
        await CommitCorpusAsync(journal, new Random(3), commits: 10);

        await loop.UntilIdleAsync();

        // In the database: the feed statement is never sent, and the claim's round trip read the events. With a resolver
        // of a reaction's own (negative control of the probe) the loop reads the feed itself.
        var feedReads = journalSpans.SpansOf("journal.feed").Count();
        var readInDatabase = leaseSpans.SpansOf("lease.claim").Sum(s => s.GetTagItem("orleanspgstore.events_read") is int n ? n : 0);
        var expected = Works(await ExpectedMarksAsync(journal));
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Works(await MarksAsync(leases)));
        if (clientSide)
        {
            Assert.True(feedReads > 0);
            Assert.Equal(0, readInDatabase);
        }
        else
        {
            Assert.Equal(0, feedReads);
            Assert.Equal(await CountAsync(journal), readInDatabase);
        }

        // Discovery without a claim (CorrelateAsync) is a statement of its own, "lease.discover".
        await journal.CommitAsync("late", [Events.Make("D")]);
        Assert.Equal(1, await loop.CorrelateAsync());
        Assert.Equal(clientSide ? 0 : 1, leaseSpans.SpansOf("lease.discover").Count(s => s.GetTagItem("orleanspgstore.events_read") is 1));
        Assert.Equal(clientSide ? feedReads + 1 : 0, journalSpans.SpansOf("journal.feed").Count());
    }

    [Fact]
    public async Task A_reaction_worker_built_by_the_store_discovers_in_the_database()
    {
        await using var store = PgStore.Create(db.ConnectionString, o =>
        {
            o.Schema = db.Name;
            o.EventsTable = "did_store_events";
            o.StateTable = "did_store_state";
            o.SubscriptionsTable = "did_store_subs";
        });
        await store.SeedAsync();
        using var journalSpans = new TelemetryCapture("did_store_events");
        using var leaseSpans = new TelemetryCapture("did_store_subs");
        var handled = new ConcurrentBag<long>();
        var registry = new ReactionRegistry().On("A", (e, _) =>
        {
            handled.Add(e.Position);
            return Task.CompletedTask;
        });
        var committed = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            committed.AddRange((await store.Journal.CommitAsync($"s{i % 3}", [Events.Make("A", i)])).Select(e => e.Position));
        }

        await using (var worker = store.CreateReactionWorker(registry, new ReactionOptions { PollInterval = TimeSpan.FromMilliseconds(50) }))
        {
            await worker.StartAsync();
            await Eventually.WaitAsync(() => handled.Count >= committed.Count, "the worker handled every event");
        }

        Assert.Equal(committed.Order(), handled.Order());
        Assert.Empty(journalSpans.SpansOf("journal.feed"));
        Assert.Equal(committed.Count, leaseSpans.Spans.Sum(s => s.GetTagItem("orleanspgstore.events_read") is int n ? n : 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_event_whose_own_stream_has_a_checkpoints_name_is_a_target_like_any_other_in_both_paths(bool clientSide)
    {
        await using var journal = await db.JournalAsync($"did_dollar_events_{clientSide}");
        await using var leases = await db.LeasesAsync($"did_dollar_subs_{clientSide}");
        var loop = new ReactionLoop(journal, leases, Registry(clientSide), new ReactionOptions { Name = "dollar" });
        var ok = await journal.CommitAsync("ok", [Events.Make("A")]);
        Assert.Equal(1, await loop.CorrelateAsync());
        var checkpoint = await leases.ReadCheckpointAsync("dollar");

        // Streams named like the group's checkpoint, old and new: marked as targets, the checkpoint moves on past them.
        var named = await journal.CommitAsync("$checkpoint:dollar", [Events.Make("A")]);
        var key = await journal.CommitAsync("discovery:dollar", [Events.Make("A")]);
        var after = await journal.CommitAsync("after", [Events.Make("A")]);
        Assert.Equal(3, await loop.CorrelateAsync());
        Assert.True(await leases.ReadCheckpointAsync("dollar") >= after[0].Position);
        Assert.True(await leases.ReadCheckpointAsync("dollar") > checkpoint);
        Assert.Equal(
            [new Mark("$checkpoint:dollar", named[0].Position, 0, ""), new Mark("after", after[0].Position, 0, ""),
             new Mark("discovery:dollar", key[0].Position, 0, ""), new Mark("ok", ok[0].Position, 0, "")],
            (await MarksAsync(leases)).OrderBy(m => m.Stream, StringComparer.Ordinal));
        Assert.Equal(1L, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM {leases.CheckpointsTable}"));

        // And they are handled: a cycle claims all four.
        var cycle = await loop.RunCycleAsync();
        Assert.Equal(4, cycle.Claimed);
    }

    /// <summary>
    /// Reactions with different names, priorities and lanes. "A" and "C" are each handled by two reactions: a new target
    /// gets the first one's priority and lane. With <paramref name="clientSide"/> each names the default resolver
    /// explicitly, which keeps discovery in the loop (a resolver of its own could look anywhere).
    /// </summary>
    private static ReactionRegistry Registry(bool clientSide)
    {
        Func<RecordedEvent, ReactionTarget?>? target = clientSide ? ReactionTarget.OwnStream : null;
        return new ReactionRegistry()
            .On("A", (_, _) => Task.CompletedTask, target)
            .OnBatch(["B", "C"], (_, _) => Task.CompletedTask, target, priority: 5, lane: "fast")
            .Project(["C", "D"], (_, _) => Task.CompletedTask, target: target, priority: 2, lane: "slow")
            .On("A", (_, _) => Task.CompletedTask, target, priority: 9, lane: "x");
    }

    /// <summary>The statement a loop with <see cref="Registry"/> builds over <paramref name="journal"/> and <paramref name="leases"/>.</summary>
    private static OwnStreamDiscovery Statement(JournalStore journal, LeaseStore leases)
        => leases.OwnStreamDiscovery(journal, FirstReaction.Select(r => (r.Key, r.Value.Priority, r.Value.Lane)).ToList());

    /// <summary>
    /// Runs the statement built for <see cref="Registry"/> (changed by <paramref name="change"/>) as a loop would, pages of
    /// 7, until a page reads nothing or does not advance; returns the checkpoint's positions, from where it started.
    /// </summary>
    private static async Task<List<long>> DriveAsync(JournalStore journal, LeaseStore leases, Func<string, string> change)
    {
        var statement = Statement(journal, leases);
        statement = statement with { Sql = change(statement.Sql) };
        var pages = new List<long> { await leases.ReadCheckpointAsync("g") };
        for (var page = 0; page < 1_000; page++)
        {
            var found = await leases.DiscoverAsync(statement, "g", from: null, limit: 7, skipAhead: false, announce: null);
            if (found.Read == 0 || !found.Advance.Advanced)
            {
                return pages;
            }

            pages.Add(found.To);
        }

        Assert.Fail("the statement never stopped reading");
        return pages;
    }

    /// <summary>A loop, its lease store, and the checkpoint's positions so far (where each page it read ended).</summary>
    private sealed record Side(ReactionLoop Loop, LeaseStore Leases)
    {
        public List<long> Pages { get; } = [-1];
    }

    /// <summary>
    /// Steps both loops one page at a time until both read nothing. After every page, each side's marks are exactly
    /// those the loop's own mapping gives over the pages that side read (a page's end depends on the fence at its read, so
    /// the two sides need not end a short page at the same position).
    /// </summary>
    private async Task InLockstepAsync(JournalStore journal, Side client, Side server)
    {
        for (var step = 0; step < 1_000; step++)
        {
            var read = 0;
            foreach (var side in new[] { client, server })
            {
                read += await side.Loop.CorrelateAsync();
                var checkpoint = await side.Leases.ReadCheckpointAsync("corpus");
                if (checkpoint != side.Pages[^1])
                {
                    side.Pages.Add(checkpoint);
                }

                Assert.Equal(await ExpectedMarksAsync(journal, side.Pages), await MarksAsync(side.Leases));
            }

            if (read == 0)
            {
                return;
            }
        }

        Assert.Fail("the loops never caught up");
    }

    /// <summary>Commits of 1 to 6 events to 20 streams (odd names among them), handled and unhandled names, and a snapshot.</summary>
    private static async Task CommitCorpusAsync(JournalStore journal, Random random, int commits)
    {
        string[] streams = [.. Enumerable.Range(0, 17).Select(i => $"s{i}"), "o'brien/1", "ünïcödé/2", "only-unhandled"];
        for (var i = 0; i < commits; i++)
        {
            var stream = streams[random.Next(streams.Length)];
            var events = Enumerable.Range(0, random.Next(1, 7))
                .Select(v => Events.Make(stream == "only-unhandled" ? "E" : Names[random.Next(Names.Length)], v))
                .ToArray();
            var committed = await journal.CommitAsync(stream, events);
            if (i % 25 == 0)
            {
                await journal.SaveSnapshotAsync(stream, committed[^1].Version, "{}");
            }
        }
    }

    /// <summary>
    /// The marks of the loop's own mapping (one mark per event and reaction, merged per target) over the pages ending at
    /// <paramref name="pages"/> (the first is where the checkpoint started; none: the whole journal as one page): each page
    /// raises, per stream, the position of its last event with a handled name, and a target is registered with the
    /// priority and lane of the first reaction handling the name of the event that first marked it.
    /// </summary>
    private async Task<List<Mark>> ExpectedMarksAsync(JournalStore journal, IReadOnlyList<long>? pages = null, IReadOnlyCollection<string>? names = null)
    {
        pages ??= [-1, long.MaxValue];
        var rules = names is null ? FirstReaction : names.ToDictionary(n => n, _ => (0, ""));
        var events = new List<(long Position, string Stream, string Name)>();
        await using (var command = db.Schema.DataSource.CreateCommand(
            $"SELECT position, stream, name FROM {journal.QualifiedTable} WHERE NOT snapshot ORDER BY position"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                events.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var marks = new Dictionary<string, Mark>(StringComparer.Ordinal);
        for (var i = 1; i < pages.Count; i++)
        {
            var page = events.Where(e => e.Position > pages[i - 1] && e.Position <= pages[i] && rules.ContainsKey(e.Name));
            foreach (var last in page.GroupBy(e => e.Stream).Select(g => g.MaxBy(e => e.Position)))
            {
                var (priority, lane) = rules[last.Name];
                marks[last.Stream] = marks.TryGetValue(last.Stream, out var known)
                    ? known with { Work = Math.Max(known.Work, last.Position) }
                    : new Mark(last.Stream, last.Position, priority, lane);
            }
        }

        return marks.Values.OrderBy(m => m.Stream, StringComparer.Ordinal).ToList();
    }

    /// <summary>The marks' streams and positions (a target's priority and lane depend on the page that registered it).</summary>
    private static List<(string Stream, long Work)> Works(IEnumerable<Mark> marks) => marks.Select(m => (m.Stream, m.Work)).ToList();

    /// <summary>The targets' marks (their watermarks aside), by stream.</summary>
    private static async Task<List<Mark>> MarksAsync(LeaseStore leases)
    {
        var marks = new List<Mark>();
        await foreach (var s in QueryAsync(leases))
        {
            Assert.Equal(s.Stream, s.Source);
            marks.Add(new Mark(s.Stream, s.Work, s.Priority, s.Lane));
        }

        return marks.OrderBy(m => m.Stream, StringComparer.Ordinal).ToList();
    }

    private static async IAsyncEnumerable<SubscriptionState> QueryAsync(LeaseStore leases)
    {
        foreach (var s in await leases.QueryStreamsAsync(new SubscriptionFilter(), limit: 10_000))
        {
            yield return s;
        }
    }

    private async Task<List<long>> PositionsAsync(JournalStore journal, string name)
    {
        var positions = new List<long>();
        await using var command = db.Schema.DataSource.CreateCommand(
            $"SELECT position FROM {journal.QualifiedTable} WHERE NOT snapshot AND name = @name ORDER BY position");
        command.Parameters.AddWithValue("name", name);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            positions.Add(reader.GetInt64(0));
        }

        return positions;
    }

    private async Task<int> CountAsync(JournalStore journal)
        => (int)(await db.Schema.ScalarAsync<long>(
            $"SELECT count(*) FROM {journal.QualifiedTable} WHERE NOT snapshot AND name = ANY(ARRAY['A', 'B', 'C', 'D'])"));

    /// <summary>Discovery statements on <paramref name="leases"/>' table waiting for a lock (other classes run their own at the same time).</summary>
    private Task<long> WaitingDiscoveriesAsync(LeaseStore leases)
        => db.Schema.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE @pattern",
            ("pattern", $"%cp AS MATERIALIZED%{leases.CheckpointsTable}%"));

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }

    private static string Replace(string sql, string what, string with)
    {
        Assert.Contains(what, sql);
        return sql.Replace(what, with, StringComparison.Ordinal);
    }

    private sealed record Mark(string Stream, long Work, int Priority, string Lane);
}
