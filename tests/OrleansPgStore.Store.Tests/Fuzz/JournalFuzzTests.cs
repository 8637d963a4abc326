using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Fuzz;

/// <summary>
/// Seeded random calls to the journal, checked against a model: each either succeeds with data that reads back
/// equal (as jsonb sees JSON) or fails cleanly, with an ArgumentException for bad input or a concurrency error for a
/// stale version, and the table never holds anything partial. Fixed seed and size: the same calls every run.
/// </summary>
public sealed class JournalFuzzTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    private const int Seed = 20_551;
    private static readonly int Calls = 600 * Soak.Factor;

    [Fact]
    public async Task Random_commits_and_reads_round_trip_exactly_or_fail_cleanly_and_leave_nothing_partial()
    {
        await using var store = await db.JournalAsync("fuzz_events", o => o.PageSize = 7);
        var session = new Session(store, new FuzzInput(Seed), () => db.CountAsync("fuzz_events"));
        for (var call = 0; call < Calls; call++)
        {
            var kind = session.Input.Random.Next(10);
            await (kind < 6 ? session.CommitAsync() : kind < 9 ? session.QueryAsync() : session.ReadStreamAsync());
        }

        await session.VerifyEverythingAsync();
        output.WriteLine(string.Join(", ", session.Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(session.Outcomes.GetValueOrDefault("commit ok") > 50, "the fuzz should mostly commit");
        Assert.True(session.Outcomes.GetValueOrDefault("commit conflict") > 10);
        Assert.True(session.Outcomes.GetValueOrDefault("commit rejected") > 20);
    }

    [Fact]
    public async Task A_10_MB_payload_round_trips_exactly()
    {
        await using var store = await db.JournalAsync("fuzz_large");
        var json = new FuzzInput(Seed).Large(10 * 1024 * 1024);

        var committed = await store.CommitAsync("large", [new EventData("Large", json)]);
        var loaded = Assert.Single(await store.LoadAsync("large").ToListAsync());

        Assert.Equal(committed[0].Position, loaded.Position);
        Assert.Equal(JsonCanon.Of(json), JsonCanon.Of(loaded.Json));
    }

    [Fact]
    public async Task A_payload_nested_10_000_deep_round_trips_and_a_deeper_one_is_rejected_before_any_io()
    {
        await using var store = await db.JournalAsync("fuzz_deep");
        var deep = FuzzInput.Deep(10_000);

        await store.CommitAsync("deep", [new EventData("Deep", deep)]);
        var tooDeep = await Assert.ThrowsAsync<ArgumentException>(() => store.CommitAsync("deep", [new EventData("Deeper", FuzzInput.Deep(10_001))]));

        Assert.Equal(JsonCanon.Of(deep), JsonCanon.Of(Assert.Single(await store.LoadAsync("deep").ToListAsync()).Json));
        Assert.Contains("not valid JSON", tooDeep.Message);
        Assert.Contains("'deep'", tooDeep.Message);
        Assert.Equal(1, await db.CountAsync("fuzz_deep"));
    }

    private sealed class Session(JournalStore store, FuzzInput input, Func<Task<long>> countRows)
    {
        private readonly Dictionary<string, List<(RecordedEvent Event, string Canon)>> _model = new(StringComparer.Ordinal);
        private readonly List<(string Stream, EventData[] Batch, long[] Positions)> _withIds = [];
        private readonly Dictionary<(string Stream, Guid Id), RecordedEvent> _ids = [];
        private readonly List<string> _streams = [];
        private long _rows;
        private long _lastPosition;

        public FuzzInput Input => input;

        public Dictionary<string, int> Outcomes { get; } = [];

        private Random R => input.Random;

        private IEnumerable<(RecordedEvent Event, string Canon)> All => _model.Values.SelectMany(v => v);

        public async Task CommitAsync()
        {
            if (R.Next(12) == 0 && _withIds.Count > 0)
            {
                await ResendAsync();
                return;
            }

            var (stream, streamExpect) = _streams.Count > 0 && R.Next(4) > 0 ? (input.Pick(_streams), Expect.Success) : input.Key("s");
            var current = stream is not null && _model.TryGetValue(stream, out var events) ? events.Count - 1 : -1L;
            var expected = R.Next(8) == 0
                ? input.Pick<long?>([-2, long.MinValue, long.MaxValue, current + 1])
                : input.Pick<long?>([null, null, current, current, current, -1, current - 1]);
            var withIds = R.Next(3) == 0;
            var batch = new List<EventData>();
            var (rejected, rejectedSomewhere) = (streamExpect == Expect.Rejected || expected < -1, false);
            for (var i = R.Next(5); i > 0; i--)
            {
                var (name, nameOk) = R.Next(12) == 0 ? Name() : ("E" + R.Next(3), true);
                var (json, jsonExpect) = R.Next(6) == 0 ? input.Json() : (input.Value(0, 3), Expect.Success);
                batch.Add(new EventData(name!, json, withIds ? Guid.NewGuid() : null));
                rejected |= !nameOk || jsonExpect == Expect.Rejected;
                rejectedSomewhere |= jsonExpect == Expect.RejectedSomewhere;
            }

            if (withIds && batch.Count > 1 && R.Next(10) == 0)
            {
                batch[1] = new EventData(batch[1].Name, batch[1].Json, batch[0].Id);
                rejected = true;
            }

            if (withIds && batch.Count > 0 && stream is not null && R.Next(8) == 0 && _ids.Keys.Where(k => k.Stream == stream).ToList() is { Count: > 0 } stored)
            {
                // Ids are idempotent one by one: a batch whose ids are all stored returns the stored events, whatever
                // it carries now; a batch mixing stored and new ids is refused.
                batch[0] = new EventData(batch[0].Name, batch[0].Json, input.Pick(stored).Id);
            }

            var repeated = withIds && stream is not null
                ? batch.Where(e => _ids.ContainsKey((stream, e.Id!.Value))).Select(e => _ids[(stream, e.Id!.Value)]).Distinct().OrderBy(e => e.Version).ToList()
                : [];
            var partialRepeat = repeated.Count > 0 && repeated.Count < batch.Count;
            var fullRepeat = repeated.Count > 0 && repeated.Count == batch.Count;

            var correlation = R.Next(3) == 0 ? (R.Next(3) == 0 ? input.Key("c").Value : "corr-" + R.Next(3)) : null;
            rejected |= correlation is not null && !Storable.Text(correlation);
            var metadata = correlation is null && R.Next(2) == 0
                ? null
                : new EventMetadata(correlation, R.Next(3) == 0 ? EventCausation.FromCommand(input.Key("cmd").Value ?? "cmd") : null);
            rejected |= metadata?.Causation?.Command is { } command && !Storable.Text(command);

            var outcome = rejected ? Expect.Rejected
                : batch.Count == 0 ? Expect.Success
                : rejectedSomewhere ? Expect.RejectedSomewhere
                : partialRepeat ? Expect.Rejected
                : (Expect?)null;
            var conflict = outcome is null && !fullRepeat && expected is not null && expected != current;
            var description = $"commit of {batch.Count} to '{Show(stream)}' expecting {expected?.ToString() ?? "any"} (at {current})";

            IReadOnlyList<RecordedEvent>? result = null;
            Exception? error = null;
            try
            {
                result = await store.CommitAsync(stream!, batch, metadata, expected);
            }
            catch (Exception e)
            {
                error = e;
            }

            if (error is null && fullRepeat && outcome is null)
            {
                Assert.Equal(repeated.Select(e => e.Position), result!.Select(e => e.Position));
                Count("commit repeat");
            }
            else if (error is null)
            {
                Assert.True(outcome is null or Expect.Success && !conflict, $"{description} succeeded; expected {outcome}{(conflict ? " (conflict)" : "")}");
                Assert.Equal(batch.Count, result!.Count);
                for (var i = 0; i < batch.Count; i++)
                {
                    var e = result[i];
                    Assert.Equal((stream, current + 1 + i, batch[i].Name, batch[i].Json, batch[i].Id), (e.Stream, e.Version, e.Name, e.Json, e.Id));
                    Assert.Equal(metadata ?? EventMetadata.None, e.Metadata);
                    Assert.True(e.Position > _lastPosition, $"{description}: position {e.Position} after {_lastPosition}");
                    _lastPosition = e.Position;
                }

                if (batch.Count > 0)
                {
                    if (!_model.ContainsKey(stream!))
                    {
                        _model[stream!] = [];
                        _streams.Add(stream!);
                    }

                    _model[stream!].AddRange(result.Select(e => (e, JsonCanon.Of(e.Json))));
                    _rows += batch.Count;
                    if (withIds)
                    {
                        _withIds.Add((stream!, batch.ToArray(), result.Select(e => e.Position).ToArray()));
                        foreach (var e in result)
                        {
                            _ids[(stream!, e.Id!.Value)] = e;
                        }
                    }
                }

                Count(batch.Count == 0 ? "commit empty" : "commit ok");
            }
            else if (conflict)
            {
                var e = Assert.IsType<StreamConcurrencyException>(error, exactMatch: true);
                Assert.Equal((stream, expected!.Value, current), (e.Stream, e.ExpectedVersion, e.ActualVersion));
                Count("commit conflict");
            }
            else
            {
                AssertCleanFailure(error, outcome, description);
                Assert.Contains("stream", error.Message, StringComparison.OrdinalIgnoreCase);
                Count(error is ArgumentException ? "commit rejected" : "commit rejected by the server");
            }

            Assert.Equal(_rows, await countRows());
        }

        /// <summary>A batch stored with ids, sent again (a retry after an unknown outcome): nothing is appended.</summary>
        private async Task ResendAsync()
        {
            var (stream, batch, positions) = input.Pick(_withIds);
            var stale = input.Pick<long?>([null, -1, 0, long.MaxValue]);

            var again = await store.CommitAsync(stream, batch, expectedVersion: stale);

            Assert.Equal(positions, again.Select(e => e.Position));
            Assert.Equal(_rows, await countRows());
            Count("resend ok");
        }

        public async Task QueryAsync()
        {
            var (query, rejected) = RandomQuery();
            var description = $"query {query}";
            List<RecordedEvent>? result = null;
            Exception? error = null;
            try
            {
                result = await store.QueryAsync(query).ToListAsync();
            }
            catch (Exception e)
            {
                error = e;
            }

            if (rejected)
            {
                Assert.True(error is ArgumentException, $"{description} should be rejected, got {(error?.ToString() ?? "success")}");
                Count("query rejected");
                return;
            }

            Assert.True(error is null, $"{description} failed: {error}");
            var expected = All.Where(e => Matches(query, e.Event));
            expected = query.Backward ? expected.OrderByDescending(e => e.Event.Position) : expected.OrderBy(e => e.Event.Position);
            var list = query.Limit <= 0 ? [] : expected.Take((int)Math.Min(query.Limit ?? int.MaxValue, int.MaxValue)).ToList();
            AssertSame(list, result!, description);
            Count(result!.Count == 0 ? "query empty" : "query ok");
        }

        public async Task ReadStreamAsync()
        {
            var (stream, streamExpect) = _streams.Count > 0 && R.Next(4) > 0 ? (input.Pick(_streams), Expect.Success) : input.Key("s");
            var stored = stream is not null && _model.TryGetValue(stream, out var events) ? events : [];
            var from = input.Pick<long>([0, 0, 1, stored.Count, stored.Count + 1, -1, long.MaxValue]);
            var to = input.Pick<long?>([null, null, 0, 1, stored.Count - 1, long.MaxValue, long.MinValue]);
            var load = R.Next(3) == 0;
            var description = load ? $"load of '{Show(stream)}'" : $"read of '{Show(stream)}' [{from}, {to})";
            try
            {
                var result = load
                    ? await store.LoadAsync(stream!).ToListAsync()
                    : await store.ReadStreamAsync(stream!, from, to).ToListAsync();
                Assert.True(streamExpect == Expect.Success && (load || from >= 0), $"{description} should have been rejected");
                AssertSame(stored.Where(e => load || (e.Event.Version >= from && (to is null || e.Event.Version < to))).ToList(), result, description);
                Count("read ok");
            }
            catch (ArgumentException) when (streamExpect == Expect.Rejected || (!load && from < 0))
            {
                Count("read rejected");
            }
        }

        public async Task VerifyEverythingAsync()
        {
            foreach (var (stream, events) in _model)
            {
                AssertSame(events, await store.LoadAsync(stream).ToListAsync(), $"final load of '{Show(stream)}'");
            }

            AssertSame(All.OrderBy(e => e.Event.Position).ToList(), await store.QueryAsync(JournalQuery.All).ToListAsync(), "final query");
            Assert.Equal(_rows, await countRows());
        }

        private (JournalQuery Query, bool Rejected) RandomQuery()
        {
            var events = All.Select(e => e.Event).ToList();
            var some = events.Count > 0 ? input.Pick(events) : null;
            // Some input is checked before any I/O; some only where the server sees it (an invalid pattern, an
            // unencodable correlation id), and a query that needs no I/O (limit 0, no names) returns nothing.
            var rejected = false;
            var rejectedByServer = false;
            string? stream = null, pattern = null, correlation = null;
            switch (R.Next(9))
            {
                case 0 when some is not null:
                    stream = some.Stream;
                    break;
                case 1:
                    (stream, var expect) = input.Key("s");
                    rejected = stream is not null && expect == Expect.Rejected;
                    break;
                case 2 when some is not null:
                    var cut = Math.Min(some.Stream.Length, R.Next(1, 6));
                    cut += cut < some.Stream.Length && char.IsLowSurrogate(some.Stream[cut]) ? 1 : 0; // keep pairs whole
                    pattern = "^" + Escape(some.Stream[..cut]);
                    break;
                case 3:
                    pattern = input.Pick(["(unclosed", "[z-a]", "a{2,1}"]);
                    rejectedByServer = true;
                    break;
            }

            if (R.Next(4) == 0)
            {
                correlation = R.Next(2) == 0 ? some?.Metadata.CorrelationId : input.Key("c").Value;
                // Filter text PostgreSQL cannot take (NUL, unpaired surrogates) is refused before any I/O.
                rejected |= correlation is not null && (correlation.Contains('\0') || !Storable.Encodable(correlation));
            }

            string[]? names = R.Next(4) switch
            {
                0 or 1 => null,
                2 => R.Next(4) == 0 ? [] : ["E0", input.Pick(["E1", "E2", "Nope", "é"])],
                _ => ["E" + R.Next(3)],
            };
            long? Bound() => R.Next(3) > 0 ? null : input.Pick<long?>([0, -1, long.MinValue, long.MaxValue, some?.Position, some?.Position + 1, some?.Position - 1]);
            DateTimeOffset? Instant() => R.Next(4) > 0 ? null : input.Pick<DateTimeOffset?>(
                [DateTimeOffset.MinValue, DateTimeOffset.MaxValue, some?.Created, some?.Created.AddTicks(10), some?.Created.AddTicks(-10), new DateTimeOffset(1, 1, 2, 0, 0, 0, TimeSpan.Zero)]);
            var query = new JournalQuery
            {
                Stream = stream,
                StreamPattern = pattern,
                Names = names,
                After = Bound(),
                Before = Bound(),
                CreatedAfter = Instant(),
                CreatedBefore = Instant(),
                CorrelationId = correlation,
                Limit = R.Next(3) == 0 ? null : input.Pick<long?>([0, -5, 1, 2, 5, 13, long.MaxValue]),
                Backward = R.Next(3) == 0,
                IncludeSnapshots = R.Next(2) == 0,
            };
            var needsServer = query.Limit is null or > 0 && query.Names is not { Count: 0 };
            return (query, rejected || (rejectedByServer && needsServer));
        }

        private static bool Matches(JournalQuery q, RecordedEvent e)
            => (q.Stream is null || q.Stream == e.Stream)
               && (q.StreamPattern is null || e.Stream.StartsWith(Unescape(q.StreamPattern[1..]), StringComparison.Ordinal))
               && (q.Names is null || q.Names.Contains(e.Name))
               && (q.After is null || e.Position > q.After)
               && (q.Before is null || e.Position < q.Before)
               && (q.CreatedAfter is null || e.Created > q.CreatedAfter)
               && (q.CreatedBefore is null || e.Created < q.CreatedBefore)
               && (q.CorrelationId is null || q.CorrelationId == e.Metadata.CorrelationId);

        private static void AssertSame(IReadOnlyList<(RecordedEvent Event, string Canon)> expected, IReadOnlyList<RecordedEvent> actual, string description)
        {
            Assert.True(expected.Select(e => e.Event.Position).SequenceEqual(actual.Select(e => e.Position)),
                $"{description}: expected positions [{string.Join(", ", expected.Select(e => e.Event.Position))}], got [{string.Join(", ", actual.Select(e => e.Position))}]");
            foreach (var ((e, canon), a) in expected.Zip(actual))
            {
                Assert.Equal((e.Stream, e.Version, e.Name, e.Id, e.Metadata, e.Created, false), (a.Stream, a.Version, a.Name, a.Id, a.Metadata, a.Created, a.IsSnapshot));
                Assert.Equal(canon, JsonCanon.Of(a.Json));
            }
        }

        private (string? Name, bool Ok) Name()
        {
            var (name, expect) = input.Key("E");
            return (name, expect == Expect.Success && !name!.StartsWith('$'));
        }

        private static void AssertCleanFailure(Exception error, Expect? outcome, string description)
        {
            switch (outcome)
            {
                case Expect.Rejected:
                    Assert.True(error is ArgumentException, $"{description} should fail with an ArgumentException, got {error}");
                    break;
                case Expect.RejectedSomewhere:
                    Assert.True(error is ArgumentException or StoreOperationException, $"{description}: {error}");
                    break;
                default:
                    Assert.Fail($"{description} should have succeeded: {error}");
                    break;
            }

            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }

        // POSIX regular expressions: a backslash before any non-alphanumeric character makes it literal.
        private static string Escape(string literal)
            => string.Concat(literal.Select(c => char.IsAsciiLetterOrDigit(c) || c > 127 ? c.ToString() : "\\" + c));

        private static string Unescape(string pattern)
        {
            var text = new System.Text.StringBuilder();
            for (var i = 0; i < pattern.Length; i++)
            {
                text.Append(pattern[i] == '\\' ? pattern[++i] : pattern[i]);
            }

            return text.ToString();
        }

        private static string Show(string? text) => text is null ? "null" : text.Length > 40 ? text[..40] + "…" : text;

        private void Count(string outcome) => Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + 1;
    }
}
