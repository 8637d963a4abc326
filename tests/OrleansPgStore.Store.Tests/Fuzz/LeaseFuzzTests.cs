using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>
/// Seeded random calls to the lease store, checked against a model of every subscription after every call: each
/// call either does exactly what the model says or fails with an ArgumentException and changes nothing. Leases and
/// deferrals last an hour or lie in the past, so the outcome never depends on timing.
/// </summary>
public sealed class LeaseFuzzTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    private const int Seed = 31_337;
    private static readonly int Calls = 500 * Soak.Factor;
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task Random_lease_calls_do_exactly_what_the_model_says_or_fail_cleanly_and_change_nothing()
    {
        await using var store = await db.LeasesAsync("fuzz_subs");
        var session = new Session(store, new FuzzInput(Seed));
        for (var call = 0; call < Calls; call++)
        {
            await session.RunOneAsync();
        }

        output.WriteLine(string.Join(", ", session.Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        foreach (var kind in new[] { "subscribe", "raise", "claim", "ack", "block", "admin", "checkpoint" })
        {
            Assert.True(session.Outcomes.GetValueOrDefault(kind + " ok") > 5, $"too few successful {kind} calls");
            Assert.True(session.Outcomes.GetValueOrDefault(kind + " rejected") > 0, $"no rejected {kind} call");
        }

        Assert.True(session.Outcomes.GetValueOrDefault("claimed") > 20);
    }

    // What the fuzz found, pinned down whatever the seed.
    [Fact]
    public async Task Input_the_fuzz_found_unchecked_is_now_an_argument_error_before_any_io()
    {
        await using var store = await db.LeasesAsync("fuzz_found");
        var fine = new Subscription("fine");

        // A null work mark was a NullReferenceException; an invalid mark merged under a valid one for the same target
        // vanished unseen.
        await Assert.ThrowsAsync<ArgumentException>(() => store.RaiseWorkAsync([new WorkMark(fine, 1), null!]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.RaiseWorkAsync([new WorkMark(fine, 2), new WorkMark(fine with { Lane = "bad\0" }, 1)]));
        // Lanes and filter values reached the server, which refused them with an encoding error.
        await Assert.ThrowsAsync<ArgumentException>(() => store.ClaimAsync(1, 0, "h", Hour, lane: "bad\0"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SubscribeAsync([fine with { Lane = "\ud800" }]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ResetAsync(SubscriptionFilter.ForStreams("a\0")));
        await Assert.ThrowsAsync<ArgumentException>(() => store.UnblockAsync(new SubscriptionFilter { Lane = "\udc00" }));
        // Leases and delays past the year 9999 were taken, then could not be read back: the claim threw after taking
        // its leases, and every later QueryStreams threw too.
        await store.RaiseWorkAsync([new WorkMark(fine, 1)]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ClaimAsync(1, 0, "h", TimeSpan.MaxValue));
        var lease = Assert.Single(await store.ClaimAsync(1, 0, "h", Hour));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AckAsync([new LeaseOutcome("fine", "h", 1, TimeSpan.MaxValue)]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AckAsync([new LeaseOutcome("fine", "h", 1, TimeSpan.FromDays(-3000 * 365))]));
        var state = Assert.Single(await store.QueryStreamsAsync(new SubscriptionFilter()));
        Assert.Equal((0L, "h", -1L), (state.Retry, state.Holder, state.At));
        Assert.Equal(lease.LeasedUntil, state.LeasedUntil);

        // Checkpoint advances that go nowhere or start before the feed, and checkpoints without a name.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AdvanceCheckpointAsync("c", 5, 5, []));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AdvanceCheckpointAsync("c", 5, 4, []));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AdvanceCheckpointAsync("c", -2, 4, []));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AdvanceCheckpointAsync(null!, -1, 1, []));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ReadCheckpointAsync(""));

        Assert.Equal(1, await db.CountAsync("fuzz_found"));
    }

    [Fact]
    public async Task The_watermark_subscribe_reports_is_the_targets_and_never_a_checkpoints()
    {
        await using var store = await db.LeasesAsync("fuzz_watermark");
        Assert.Equal(-1, await store.ReadCheckpointAsync("correlation"));
        Assert.True((await store.AdvanceCheckpointAsync("correlation", -1, 1_000, [])).Advanced);

        var result = await store.SubscribeAsync([new Subscription("t")]);

        Assert.Equal((1L, -1L), (result.Subscribed, result.Watermark));
    }

    private sealed class Target
    {
        public required string Stream { get; init; }

        public string? Source { get; init; }

        public required string Lane { get; init; }

        public int Priority { get; set; }

        public long At { get; set; } = -1;

        public long Work { get; set; } = -1;

        public long Retry { get; set; } = -1;

        public bool Blocked { get; set; }

        public string? Error { get; set; }

        public string? Holder { get; set; }

        public bool Deferred { get; set; }

        // A holder's own live lease is claimable to it: a loop claims only between its cycles, when none is in use.
        public bool Claimable(string lane, string holder)
            => Lane == lane && Work > At && !Blocked && (Holder is null || Holder == holder) && !Deferred;
    }

    private sealed class Session(LeaseStore store, FuzzInput input)
    {
        private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _checkpoints = new(StringComparer.Ordinal);
        private readonly string[] _holders = ["h1", "h2", "h3"];
        private readonly string[] _lanes = ["", "", "", "blue"];

        public Dictionary<string, int> Outcomes { get; } = [];

        private string _last = "";

        private Random R => input.Random;

        public async Task RunOneAsync()
        {
            _last = ""; // what the call was, when a generator says so (for failure messages)
            var (kind, call, expectRejected) = R.Next(16) switch
            {
                0 or 1 => ("subscribe", Subscribe(out var rejected), rejected),
                2 or 3 or 4 => ("raise", RaiseWork(out var rejected), rejected),
                5 or 6 or 7 => ("claim", Claim(out var rejected), rejected),
                8 or 9 or 10 => ("ack", Ack(out var rejected), rejected),
                11 => ("block", Block(out var rejected), rejected),
                12 or 13 => ("admin", Admin(out var rejected), rejected),
                _ => ("checkpoint", Checkpoint(out var rejected), rejected),
            };

            try
            {
                await call();
                Assert.False(expectRejected, $"a {kind} call the model rejects succeeded: {_last}");
                Count(kind + " ok");
            }
            catch (Exception e) when (expectRejected && e is ArgumentException)
            {
                Count(kind + " rejected");
            }

            await CompareAsync();
        }

        private Func<Task> Subscribe(out bool rejected)
        {
            var targets = Enumerable.Range(0, 1 + R.Next(3)).Select(_ => RandomTarget()).ToList();
            rejected = targets.Any(t => !t.Valid);
            var subscriptions = targets.Select(t => t.Subscription).ToList();
            return async () =>
            {
                var result = await store.SubscribeAsync(subscriptions!);
                var unique = subscriptions.GroupBy(s => s!.Stream, StringComparer.Ordinal).Select(g => g.Last()!).ToList();
                Assert.Equal(unique.Count(s => !_targets.ContainsKey(s.Stream)), result.Subscribed);
                foreach (var s in unique)
                {
                    if (_targets.TryGetValue(s.Stream, out var t))
                    {
                        t.Priority = Math.Max(t.Priority, s.Priority);
                    }
                    else
                    {
                        _targets[s.Stream] = new Target { Stream = s.Stream, Source = s.Source, Lane = s.Lane, Priority = s.Priority };
                    }
                }

                Assert.Equal(_targets.Count == 0 ? -1 : _targets.Values.Max(t => t.At), result.Watermark);
            };
        }

        private Func<Task> RaiseWork(out bool rejected)
        {
            var marks = new List<WorkMark?>();
            rejected = false;
            foreach (var target in Enumerable.Range(0, 1 + R.Next(3)).Select(_ => RandomTarget()).DistinctBy(t => t.Subscription?.Stream))
            {
                var mark = R.Next(25) == 0 ? null : new WorkMark(target.Subscription!, input.Pick([0L, 5, 10, 20, 100, -5, long.MaxValue]));
                rejected |= !target.Valid || mark is null;
                marks.Add(target.Subscription is null ? null : mark);
            }

            _last = string.Join("; ", marks.Select(m => m is null ? "null" : $"{Show(m.Target.Stream)}/{Show(m.Target.Source)}/{Show(m.Target.Lane)}@{m.Position}"));
            return async () =>
            {
                await store.RaiseWorkAsync(marks!);
                foreach (var mark in marks)
                {
                    Apply(mark!);
                }
            };
        }

        private Func<Task> Claim(out bool rejected)
        {
            var lagging = R.Next(8) == 0 ? input.Pick([-1, int.MaxValue, 0]) : R.Next(1, 4);
            var leading = R.Next(8) == 0 ? input.Pick([-1, int.MaxValue]) : R.Next(0, 2);
            var (holder, holderOk) = R.Next(10) == 0 ? Key("h") : (input.Pick(_holders), true);
            var duration = R.Next(10) == 0 ? input.Pick([TimeSpan.Zero, TimeSpan.FromSeconds(-1), TimeSpan.MaxValue, TimeSpan.FromDays(366)]) : Hour;
            var lane = R.Next(10) == 0 ? input.Pick<string?>([null, "bad\0lane", "x\ud800"]) : input.Pick(_lanes);
            rejected = lagging < 0 || leading < 0 || !holderOk || duration <= TimeSpan.Zero || duration > LeaseStore.MaxDuration
                       || lane is null || !Storable.Encodable(lane) || lane.Contains('\0');
            return async () =>
            {
                var claimable = _targets.Values.Where(t => t.Claimable(lane!, holder!)).ToDictionary(t => t.Stream, StringComparer.Ordinal);
                var leases = await store.ClaimAsync(lagging, leading, holder!, duration, lane!);
                Assert.Equal(Math.Min(claimable.Count, (long)lagging + leading), leases.Count);
                foreach (var lease in leases)
                {
                    Assert.True(claimable.Remove(lease.Stream, out var t), $"claimed '{lease.Stream}', which was not claimable");
                    Assert.Equal((t.Source, t.At, t.Work, t.Retry + 1, holder), (lease.Source, lease.At, lease.Work, lease.Retry, lease.Holder));
                    t.Retry++;
                    t.Holder = holder;
                }

                Count("claimed", leases.Count);
            };
        }

        private Func<Task> Ack(out bool rejected)
        {
            var outcomes = PickTargets().Select(t => new LeaseOutcome(
                t.Stream,
                R.Next(5) == 0 ? input.Pick(_holders) : t.Holder ?? "nobody",
                input.Pick([t.Work, t.Work, t.At, t.At - 1, long.MaxValue, -7]),
                R.Next(3) == 0 ? input.Pick<TimeSpan?>([Hour, -Hour, Hour, -Hour, TimeSpan.MaxValue, TimeSpan.MinValue]) : null)).ToList();
            rejected = outcomes.Any(o => o.RetryAfter is { } d && (d > LeaseStore.MaxDuration || d < -LeaseStore.MaxDuration));
            if (R.Next(12) == 0)
            {
                var (holder, _) = Key("h");
                outcomes.Add(new LeaseOutcome("x", holder!, 1));
                rejected |= !Storable.Key(holder);
            }

            return async () =>
            {
                var result = await store.AckAsync(outcomes);
                var applied = outcomes.Where(o => _targets.TryGetValue(o.Stream, out var t) && t.Holder == o.Holder).ToList();
                Assert.Equal(applied, result.Applied);
                Assert.Equal(outcomes.Except(applied), result.Dropped);
                foreach (var o in applied)
                {
                    var t = _targets[o.Stream];
                    t.At = Math.Max(t.At, o.At);
                    t.Retry = o.RetryAfter is null ? -1 : t.Retry;
                    t.Deferred = o.RetryAfter > TimeSpan.Zero;
                    t.Holder = null;
                }
            };
        }

        private Func<Task> Block(out bool rejected)
        {
            var error = R.Next(10) == 0 ? null : input.Pick(["poison", "bad\0byte", "cut \ud83d", "\udc00 low first", new string('e', 5000), "é 😀"]);
            var blocks = PickTargets().Select(t => new LeaseBlock(t.Stream, R.Next(5) == 0 ? "h1" : t.Holder ?? "nobody", t.At + 1, error!)).ToList();
            rejected = error is null && blocks.Count > 0;
            return async () =>
            {
                var blocked = await store.BlockAsync(blocks);
                var expected = blocks.Where(b => _targets.TryGetValue(b.Stream, out var t) && t.Holder == b.Holder && !t.Blocked).ToList();
                Assert.Equal(expected.Select(b => b.Stream), blocked);
                foreach (var b in expected)
                {
                    var t = _targets[b.Stream];
                    (t.Blocked, t.Error, t.At, t.Holder) = (true, Stored(b.Error), Math.Max(t.At, b.At), null);
                }
            };
        }

        private Func<Task> Admin(out bool rejected)
        {
            var (filter, filterRejected) = RandomFilter();
            rejected = filterRejected;
            var matching = () => _targets.Values.Where(t => Matches(filter, t)).ToList();
            switch (R.Next(4))
            {
                case 0:
                    return async () =>
                    {
                        var expected = matching().Where(t => t.Blocked).ToList();
                        Assert.Equal(expected.Count, await store.UnblockAsync(filter));
                        expected.ForEach(t => (t.Blocked, t.Error, t.Retry, t.Holder, t.Deferred) = (false, null, -1, null, false));
                    };
                case 1:
                    return async () =>
                    {
                        var expected = matching();
                        Assert.Equal(expected.Count, await store.ResetAsync(filter));
                        expected.ForEach(t => (t.At, t.Retry, t.Blocked, t.Error, t.Holder, t.Deferred) = (-1, -1, false, null, null, false));
                    };
                case 2:
                    var until = input.Pick<DateTimeOffset?>([DateTimeOffset.UtcNow + Hour, DateTimeOffset.UtcNow - Hour, null]);
                    return async () =>
                    {
                        var expected = matching();
                        Assert.Equal(expected.Count, await store.DeferAsync(filter, until));
                        expected.ForEach(t => t.Deferred = until > DateTimeOffset.UtcNow);
                    };
                default:
                    var priority = input.Pick([0, 1, 5, int.MaxValue, int.MinValue]);
                    return async () =>
                    {
                        var expected = matching().Where(t => t.Priority != priority).ToList();
                        Assert.Equal(expected.Count, await store.PrioritizeAsync(filter, priority));
                        expected.ForEach(t => t.Priority = priority);
                    };
            }
        }

        private Func<Task> Checkpoint(out bool rejected)
        {
            var (name, nameOk) = R.Next(10) == 0 ? Key("cp") : (input.Pick(["correlation", "projection"]), true);
            var exists = name is not null && _checkpoints.ContainsKey(name);
            var current = exists ? _checkpoints[name!] : -1;
            if (R.Next(2) == 0)
            {
                rejected = !nameOk;
                return async () =>
                {
                    Assert.Equal(current, await store.ReadCheckpointAsync(name!));
                    _checkpoints[name!] = current;
                };
            }

            // From where the caller read: the checkpoint itself, behind it, ahead of it (a crash lost advances), or invalid.
            var from = input.Pick([current, current - 1, current + 5, -1L, -2L, 0L]);
            var to = input.Pick([from + 1, from + 10, current + 3, from, from - 1, long.MaxValue]);
            var marks = Enumerable.Range(0, R.Next(3)).Select(_ => RandomTarget()).Where(t => t.Valid)
                .DistinctBy(t => t.Subscription!.Stream).Select(t => new WorkMark(t.Subscription!, Math.Max(to, 0))).ToList();
            rejected = !nameOk || from < -1 || to <= from;
            return async () =>
            {
                var advance = await store.AdvanceCheckpointAsync(name!, from, to, marks);
                // It moves only from at or past where the caller started, to past where it is; a missing row never moves.
                var moves = exists && current >= from && current < to;
                Assert.Equal(new CheckpointAdvance(moves, moves ? to : current), advance);
                if (moves)
                {
                    _checkpoints[name!] = to;
                    marks.ForEach(Apply);
                }
            };
        }

        /// <summary>The whole table (through paging) against the model; a rejected call must have changed nothing.</summary>
        private async Task CompareAsync()
        {
            var rows = new List<SubscriptionState>();
            string? after = null;
            while (true)
            {
                var page = await store.QueryStreamsAsync(new SubscriptionFilter(), after, limit: 7);
                rows.AddRange(page);
                if (page.Count < 7)
                {
                    break;
                }

                after = page[^1].Stream;
            }

            Assert.Equal(_targets.Count, rows.Count);
            foreach (var row in rows)
            {
                Assert.True(_targets.TryGetValue(row.Stream, out var t), $"unexpected subscription '{row.Stream}'");
                Assert.Equal(
                    (t.Source, t.Lane, t.Priority, t.At, t.Work, t.Retry, t.Blocked, t.Error, t.Holder, t.Deferred),
                    (row.Source, row.Lane, row.Priority, row.At, row.Work, row.Retry, row.Blocked, row.Error, row.Holder, row.Due > DateTimeOffset.UtcNow));
            }
        }

        private (Subscription? Subscription, bool Valid) RandomTarget()
        {
            if (_targets.Count > 0 && R.Next(3) > 0)
            {
                var t = input.Pick(_targets.Values.ToList());
                return (new Subscription(t.Stream, t.Source, input.Pick([t.Priority, 0, 3]), t.Lane), true);
            }

            if (R.Next(20) == 0)
            {
                return (null, false);
            }

            var (stream, streamOk) = Key("t");
            var (source, sourceOk) = R.Next(3) == 0 ? (null, true) : R.Next(6) == 0 ? Key("s") : (stream, true);
            sourceOk |= source is null; // optional: only a given source must be a valid key
            var lane = R.Next(12) == 0 ? input.Pick<string?>([null, "l\0", "\ud800"]) : input.Pick(_lanes);
            var laneOk = lane is not null && !lane.Contains('\0') && Storable.Encodable(lane);
            var priority = input.Pick([0, 0, 1, -3, int.MaxValue, int.MinValue]);
            return (new Subscription(stream!, source, priority, lane!), streamOk && sourceOk && laneOk);
        }

        private (SubscriptionFilter Filter, bool Rejected) RandomFilter()
        {
            var known = _targets.Keys.ToList();
            string[]? streams = R.Next(3) switch
            {
                0 => null,
                1 => known.Count == 0 ? [] : [input.Pick(known), "unknown"],
                _ => R.Next(4) == 0 ? [] : known.Where(_ => R.Next(2) == 0).ToArray(),
            };
            var rejected = false;
            if (R.Next(10) == 0)
            {
                var bad = input.Pick<string?>([null, "nul\0", "\ud800"]);
                streams = [.. streams ?? [], bad!];
                rejected = streams.Length > 0;
            }

            var lane = R.Next(4) == 0 ? input.Pick<string?>(_lanes) : null;
            var source = R.Next(5) == 0 && _targets.Count > 0 ? input.Pick(_targets.Values.ToList()).Source : null;
            return (new SubscriptionFilter { Streams = streams, Lane = lane, Source = source, Blocked = input.Pick<bool?>([null, null, true, false]) }, rejected);
        }

        private static bool Matches(SubscriptionFilter f, Target t)
            => (f.Streams is null || f.Streams.Contains(t.Stream))
               && (f.Source is null || f.Source == t.Source)
               && (f.Blocked is null || f.Blocked == t.Blocked)
               && (f.Lane is null || f.Lane == t.Lane);

        private void Apply(WorkMark mark)
        {
            if (_targets.TryGetValue(mark.Target.Stream, out var t))
            {
                t.Work = Math.Max(t.Work, mark.Position);
            }
            else
            {
                _targets[mark.Target.Stream] = new Target
                {
                    Stream = mark.Target.Stream, Source = mark.Target.Source, Lane = mark.Target.Lane, Priority = mark.Target.Priority, Work = mark.Position,
                };
            }
        }

        private List<Target> PickTargets()
            => _targets.Values.OrderBy(t => t.Holder is null).ThenBy(_ => R.Next()).Take(R.Next(1, 4)).ToList();

        private (string? Value, bool Ok) Key(string prefix)
        {
            var (value, expect) = input.Key(prefix);
            return (value, expect == Expect.Success);
        }

        // What a block stores: NULs become spaces, unpaired surrogates U+FFFD.
        private static string Stored(string error)
        {
            var text = error.Replace('\0', ' ').ToCharArray();
            for (var i = 0; i < text.Length; i++)
            {
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(text[i]))
                {
                    text[i] = '\uFFFD';
                }
            }

            return new string(text);
        }

        private static string Show(string? text)
            => text is null ? "null" : string.Concat(text.Take(20).Select(c => char.IsControl(c) || char.IsSurrogate(c) || c > 127 ? $"\\u{(int)c:x4}" : c.ToString())) + $"({text.Length})";

        private void Count(string outcome, int by = 1) => Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + by;
    }
}
