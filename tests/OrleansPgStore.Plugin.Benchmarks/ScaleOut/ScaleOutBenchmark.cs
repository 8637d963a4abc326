using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Plugin.Benchmarks.ScaleOut;

/// <summary>
/// <c>--scenario scaleout</c>: 1, 2 and 3 silo processes sharing one PostgreSQL drain the same load into a read model
/// through a transactional projection (the same number of workers every time, spread over the silos); then, with the
/// most silos, a second load is drained while one silo that holds leases is killed, and the handover is timed.
/// </summary>
/// <remarks>
/// Each silo count gets its own schema and a fresh cluster. The events are committed before the drain starts but held
/// behind a "gate": a transaction that took a transaction id first keeps the settled feed's fence below every one of
/// them until it commits, so all silos are up and their workers spread before the first event is discovered. Times come
/// from the read model itself: every row carries the silo that projected it and its insert time.
/// </remarks>
internal sealed partial class ScaleOutBenchmark
{
    private const string Subscriptions = "subscriptions";
    private static readonly TimeSpan LeaseDuration = new Store.Reactions.ReactionOptions().LeaseDuration;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(3);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _connectionString;
    private readonly string _run = Guid.NewGuid().ToString("N")[..6];
    private readonly int _streams;
    private readonly int _perStream;
    private readonly int _workers;
    private readonly Report _report;
    // Where each worker grain runs, from the silos' log lines ("Reaction worker {key} started on {silo}").
    private readonly Dictionary<string, int> _workerSilos = [];
    private readonly bool _verbose;
    private readonly string _membership;
    private long _releasedAt;
    private string? _releasedLine;

    private ScaleOutBenchmark(
        NpgsqlDataSource dataSource, string connectionString, int streams, int perStream, int workers, bool verbose, string membership, Report report)
    {
        _verbose = verbose;
        _membership = membership;
        _dataSource = dataSource;
        _connectionString = connectionString;
        _streams = streams;
        _perStream = perStream;
        _workers = workers;
        _report = report;
    }

    private long Batch => (long)_streams * _perStream;

    public static async Task RunAsync(BenchmarkArguments arguments, Report report)
    {
        var streams = (int)arguments.Number("--streams", 1_000);
        var perStream = (int)arguments.Number("--events", 100);
        var workers = (int)arguments.Number("--workers", 6);
        var maxSilos = (int)arguments.Number("--silos", 3);
        var external = Environment.GetEnvironmentVariable("ORLEANSPGSTORE_BENCH_CONNECTION");
        await using var server = external is null ? await PrivatePostgresCluster.StartAsync(durable: true) : null;
        var connectionString = new NpgsqlConnectionStringBuilder(external ?? server!.ConnectionString) { MaxPoolSize = 50 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Console.WriteLine($"Scale-out: {streams:#,0} streams × {perStream} events per load, {workers} workers, 1..{maxSilos} silo processes; " +
                          $"{Environment.ProcessorCount} cores; server fsync=on");

        // Membership: "recommended" (ProbeTimeout 1 s, NumMissedProbesLimit 2, NumVotesForDeathDeclaration 1) or Orleans' "default".
        var membership = arguments.String("--membership") ?? "recommended";
        var benchmark = new ScaleOutBenchmark(dataSource, connectionString, streams, perStream, workers, arguments.Flag("--verbose"), membership, report);
        var rates = new Dictionary<int, double>();
        var minSilos = (int)arguments.Number("--min-silos", 1);
        for (var silos = minSilos; silos <= maxSilos; silos++)
        {
            rates[silos] = await benchmark.RunSiloCountAsync(silos, measureHandover: silos == maxSilos && silos > 1);
        }

        if (minSilos > 1)
        {
            return;
        }

        var label = $"{streams:#,0} × {perStream}";
        report.AddValue($"Scale-out: transactional projection drain {label}, {workers} workers, 1 silo process (events/s)", rates[1], "/s", "");
        for (var silos = 2; silos <= maxSilos; silos++)
        {
            report.Add($"Scale-out: the same drain, {silos} silo processes vs 1 (events/s)", rates[1], rates[silos], "/s", "");
        }
    }

    /// <summary>Starts <paramref name="count"/> silos, drains one load and returns its rate; then the handover run if asked.</summary>
    private async Task<double> RunSiloCountAsync(int count, bool measureHandover)
    {
        var schema = $"scale_{_run}_k{count}";
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = _dataSource, Schema = schema });
        await journal.SeedAsync();
        // Kicks carry a NOTIFY, as a silo's commits would, so the workers wake at once when the gate opens.
        await using var kicker = new JournalStore(new JournalStoreOptions { DataSource = _dataSource, Schema = schema, NotifyOnCommit = true });
        var model = $"{schema}.{ScaleOutSilo.ModelTable}";
        await ExecAsync($"CREATE TABLE {model} (position bigint NOT NULL, stream text NOT NULL, silo int NOT NULL, projected_at timestamptz NOT NULL DEFAULT clock_timestamp())");

        var silos = new List<SiloProcess>();
        lock (_workerSilos)
        {
            _workerSilos.Clear();
        }

        try
        {
            await using (var gate = await Gate.OpenAsync(_dataSource))
            {
                await SeedAsync(journal);
                await StartSilosAsync(silos, count, schema);
                var rate = await DrainAsync(gate, kicker, model, expected: Batch + 1, batch: 1);
                await VerifyAsync(schema, expected: Batch + 1, $"{count} silo(s)");
                var shares = await SharesAsync(model);
                Console.WriteLine($"    {count} silo(s): {rate:#,0} events/s; shares by silo {shares}");
                if (!measureHandover)
                {
                    return rate;
                }

                await MeasureHandoverAsync(journal, kicker, schema, silos);
                return rate;
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Drains a second load with every silo up; once it is under way and the victim holds leases, kills it and times the
    /// handover from the read model. The victim is the silo whose worker holds a lease on the discovery checkpoint, when
    /// one does (releases before this project's issue 20 leased it to one worker), else the last silo; never the
    /// primary, which holds the development membership table.
    /// </summary>
    private async Task MeasureHandoverAsync(JournalStore journal, JournalStore kicker, string schema, List<SiloProcess> silos)
    {
        var model = $"{schema}.{ScaleOutSilo.ModelTable}";
        var victim = silos[^1];
        var prefix = victim.Address + "/";
        var before = Batch + 1;
        var expected = before + Batch + 1;
        await using var gate = await Gate.OpenAsync(_dataSource);
        Volatile.Write(ref _releasedAt, 0);
        await SeedAsync(journal);
        var releasedAt = await gate.ReleaseAsync();
        await kicker.CommitAsync("kick-2", [new EventData(ScaleOutSilo.EventName, BenchContextPayload)]);

        // Kill once a quarter of the load is projected, at a moment the victim has just claimed targets (a worker holds
        // its targets from claim to ack, so between two cycles it may hold none, and a kill just before an ack hands over
        // nothing). Under load such a moment can be missed: later, any lease it holds will do; in the end, kill anyway.
        var heldBeforeKill = 0;
        DateTime killedAt;
        while (true)
        {
            var done = await ScalarAsync<long>($"SELECT count(*) FROM {model}") - before;
            if (done >= Batch / 4)
            {
                if (await DiscoveryHolderAsync(schema, silos) is { } holder)
                {
                    victim = holder;
                    prefix = victim.Address + "/";
                }

                var claimedWithin = done < Batch / 2 ? TimeSpan.FromMilliseconds(100) : (TimeSpan?)null;
                // The kill's time is taken before the check, so that nothing awaits between the check and the kill
                // (the times below then count a few milliseconds more than they took).
                killedAt = await ScalarAsync<DateTime>("SELECT clock_timestamp()");
                var claimed = await HeldTargetsAsync(schema, prefix, claimedWithin);
                if (claimed is { Length: > 0 } || done >= Batch * 3 / 4)
                {
                    victim.Kill();
                    heldBeforeKill = claimed?.Length ?? 0;
                    break;
                }
            }

            await Task.Delay(5);
        }

        var killWatch = Stopwatch.GetTimestamp();
        // The dead silo's leases, as it left them: they stay until a survivor releases them (or they expire).
        var heldAtKill = await HeldTargetsAsync(schema, prefix) ?? [];
        var heldCheckpoint = await QueryAsync<long>(
            $"SELECT count(*) FROM {schema}.{Subscriptions} WHERE left(leased_by, length($1)) = $1 AND leased_until > clock_timestamp() AND stream NOT LIKE 'scale-%'",
            prefix) > 0;
        var pendingAtKill = expected - await ScalarAsync<long>($"SELECT count(*) FROM {model}");
        using (var tracing = new CancellationTokenSource())
        {
            var trace = _verbose ? TraceAsync(schema, model, killWatch, tracing.Token) : Task.CompletedTask;
            await WaitForCountAsync(model, expected, killWatch);
            await tracing.CancelAsync();
            await trace;
        }

        var drainAfterKill = Stopwatch.GetElapsedTime(killWatch).TotalSeconds;
        await VerifyAsync(schema, expected, "after the kill");
        // The release is logged once membership declares the silo dead; wait for it if the drain finished first.
        for (var waited = 0; Volatile.Read(ref _releasedAt) == 0 && waited < 300; waited++)
        {
            await Task.Delay(100);
        }

        var releasedAfter = Volatile.Read(ref _releasedAt) is var released and > 0
            ? Stopwatch.GetElapsedTime(killWatch, released).TotalSeconds
            : double.NaN;
        // First event of a target the dead silo held, projected by a survivor; and when the last such target resumed.
        await using var resumed = _dataSource.CreateCommand(
            $"""
            SELECT extract(epoch FROM min(first) - $1)::float8, extract(epoch FROM max(first) - $1)::float8, count(*)
            FROM (SELECT stream, min(projected_at) AS first FROM {model}
                  WHERE stream = ANY($2) AND projected_at > $1 AND silo <> $3 GROUP BY stream) resumed
            """);
        resumed.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = killedAt });
        resumed.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = heldAtKill });
        resumed.Parameters.Add(new NpgsqlParameter<int> { TypedValue = victim.Index });
        double firstResumed, allResumed;
        long resumedTargets;
        await using (var reader = await resumed.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            firstResumed = reader.IsDBNull(0) ? double.NaN : reader.GetDouble(0);
            allResumed = reader.IsDBNull(1) ? double.NaN : reader.GetDouble(1);
            resumedTargets = reader.GetInt64(2);
        }

        var gapBefore = await LongestGapAsync(model, releasedAt, killedAt);
        var gapAfter = await LongestGapAsync(model, killedAt, null);
        // The work the dead silo did not hold waits for nobody: the longest pause in it (the dead silo's own targets wait
        // for its death to be declared, which with Orleans' default membership takes about 10 s).
        var gapOthers = await LongestGapAsync(model, killedAt, null, except: heldAtKill);
        var shares = await SharesAsync(model, after: killedAt);
        Console.WriteLine($"    the victim held {heldBeforeKill} target leases just before the kill, {heldAtKill.Length} right after it");
        var held = $"{heldAtKill.Length} target leases{(heldCheckpoint ? " and the discovery checkpoint" : "")}";
        Console.WriteLine($"    handover: killed silo {victim.Index} ({victim.Address}) holding {held} with {pendingAtKill:#,0} events left; " +
                          $"{resumedTargets} of those targets resumed on survivors; shares after the kill {shares}");
        Console.WriteLine($"    survivor's log: {_releasedLine ?? "(no release logged)"}");

        var silosLabel = $"{silos.Count} silo processes, {_membership} membership, victim {(heldCheckpoint ? "held" : "did not hold")} a discovery lease";
        _report.AddValue($"Handover, {silosLabel}: kill → silo declared dead and its leases ({held}) released by a survivor (its log line)", releasedAfter, "s", "");
        _report.AddValue($"Handover, {silosLabel}: kill → first event of the dead silo's {heldAtKill.Length} leased targets projected by a survivor", firstResumed, "s", "");
        _report.AddValue($"Handover, {silosLabel}: kill → every one of those targets projecting again", allResumed, "s", "");
        _report.AddValue($"Handover, {silosLabel}: kill → drain complete ({pendingAtKill:#,0} of {Batch + 1:#,0} events left at the kill)", drainAfterKill, "s", "");
        _report.Add($"Handover, {silosLabel}: longest gap without a projected event, before the kill vs after it", gapBefore, gapAfter, "s", "");
        _report.AddValue($"Handover, {silosLabel}: longest gap after the kill in the work the dead silo did not hold", gapOthers, "s", "≤ 2 s");
    }

    /// <summary>--verbose: what the server sees each half second of a drain (progress, lease holders, long transactions).</summary>
    private async Task TraceAsync(string schema, string model, long killWatch, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await using var command = _dataSource.CreateCommand(
                    $"""
                    SELECT (SELECT count(*) FROM {model}),
                           (SELECT string_agg(h || '=' || n, ' ') FROM (SELECT leased_by AS h, count(*) AS n FROM {schema}.{Subscriptions}
                                WHERE leased_until > clock_timestamp() GROUP BY 1) l),
                           (SELECT string_agg(pid || ' ' || state || ' xid=' || coalesce(backend_xid::text, '-') || ' age=' || round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1) || ' ' || left(query, 60), ' | ')
                              FROM (SELECT * FROM pg_stat_activity WHERE datname = current_database() AND xact_start < clock_timestamp() - interval '1 second' AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 3) a)
                    """);
                await using var reader = await command.ExecuteReaderAsync(stop);
                await reader.ReadAsync(stop);
                Console.WriteLine($"      +{Stopwatch.GetElapsedTime(killWatch).TotalSeconds:0.0}s rows {reader.GetInt64(0):#,0}; leases {(reader.IsDBNull(1) ? "-" : reader.GetString(1))}; long transactions {(reader.IsDBNull(2) ? "-" : reader.GetString(2))}");
                await Task.Delay(500, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The targets leased by holders starting with <paramref name="prefix"/>; with <paramref name="claimedWithin"/>, only
    /// if one was claimed that recently (its cycle has just begun, so a kill now lands before its ack).
    /// </summary>
    private Task<string[]?> HeldTargetsAsync(string schema, string prefix, TimeSpan? claimedWithin = null)
        => QueryAsync<string[]?>(
            $"""
            SELECT coalesce(array_agg(stream), ARRAY[]::text[]) FROM {schema}.{Subscriptions}
            WHERE left(leased_by, length($1)) = $1 AND leased_until > clock_timestamp() AND stream LIKE 'scale-%'
            HAVING $2::float8 IS NULL OR max(leased_until) > clock_timestamp() + make_interval(secs => $3 - $2)
            """,
            prefix,
            claimedWithin?.TotalSeconds,
            LeaseDuration.TotalSeconds);

    private async Task StartSilosAsync(List<SiloProcess> silos, int count, string schema)
    {
        var ports = FreePorts(2 * count);
        var cluster = $"scaleout-{schema}";
        IEnumerable<string> Arguments(int index) =>
        [
            "--connection", _connectionString, "--schema", schema, "--cluster", cluster, "--index", index.ToString(CultureInfo.InvariantCulture),
            "--silo-port", ports[2 * index].ToString(CultureInfo.InvariantCulture),
            "--gateway-port", ports[(2 * index) + 1].ToString(CultureInfo.InvariantCulture),
            "--primary-port", ports[0].ToString(CultureInfo.InvariantCulture),
            "--workers", _workers.ToString(CultureInfo.InvariantCulture),
            "--membership", _membership,
            .. _verbose ? ["--verbose"] : Array.Empty<string>(),
        ];

        // The primary first (it holds the membership table), then the others together.
        silos.Add(SiloProcess.Start(0, Arguments(0), OnLog));
        await silos[0].WaitReadyAsync(TimeSpan.FromSeconds(60));
        for (var i = 1; i < count; i++)
        {
            silos.Add(SiloProcess.Start(i, Arguments(i), OnLog));
        }

        await Task.WhenAll(silos.Skip(1).Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(60))));
        // Every silo asks for its share of the workers when the set of active silos changes: wait until each runs its
        // share (from the workers' own log lines), so the drain starts with the workers spread.
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (!Spread(count) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(100);
        }

        Console.WriteLine($"    {count} silo(s) up: {string.Join(", ", silos.Select(s => s.Address))}; workers per silo {Placement(count)}");
    }

    private bool Spread(int count)
    {
        lock (_workerSilos)
        {
            var perSilo = Enumerable.Range(0, count).Select(i => _workerSilos.Values.Count(s => s == i)).ToList();
            return perSilo.Sum() == _workers && perSilo.Max() - perSilo.Min() <= 1;
        }
    }

    private string Placement(int count)
    {
        lock (_workerSilos)
        {
            return string.Join(" / ", Enumerable.Range(0, count).Select(i => _workerSilos.Values.Count(s => s == i)));
        }
    }

    private void OnLog(int index, string line)
    {
        if (WorkerStarted().Match(line) is { Success: true } started)
        {
            lock (_workerSilos)
            {
                _workerSilos[started.Groups[1].Value] = index;
            }
        }
        else if (WorkerMoves().Match(line) is { Success: true } moves)
        {
            lock (_workerSilos)
            {
                // Lines of two processes interleave: forget the worker only if its latest start was on the silo it leaves.
                if (_workerSilos.TryGetValue(moves.Groups[1].Value, out var at) && at == index)
                {
                    _workerSilos.Remove(moves.Groups[1].Value);
                }
            }
        }

        if (line.Contains("Released", StringComparison.Ordinal) && line.Contains("dead silo", StringComparison.Ordinal))
        {
            Interlocked.CompareExchange(ref _releasedAt, Stopwatch.GetTimestamp(), 0);
            _releasedLine ??= $"[silo {index}] {line}";
        }

        if (_verbose || line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal) || line.Contains("Released", StringComparison.Ordinal))
        {
            Console.WriteLine($"      [silo {index}] {line}");
        }
    }

    /// <summary>One load: <see cref="_streams"/> streams × <see cref="_perStream"/> events, 8 writers.</summary>
    private async Task SeedAsync(JournalStore journal)
    {
        var events = Enumerable.Range(0, _perStream).Select(_ => new EventData(ScaleOutSilo.EventName, BenchContextPayload)).ToArray();
        await Parallel.ForAsync(0, _streams, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (s, ct) =>
            await journal.CommitAsync($"scale-{s}", events, cancellationToken: ct));
    }

    /// <summary>Opens the gate, wakes the workers, and returns the events per second until the read model is complete.</summary>
    private async Task<double> DrainAsync(Gate gate, JournalStore kicker, string model, long expected, int batch)
    {
        var started = Stopwatch.GetTimestamp();
        await gate.ReleaseAsync();
        await kicker.CommitAsync($"kick-{batch}", [new EventData(ScaleOutSilo.EventName, BenchContextPayload)]);
        using (var tracing = new CancellationTokenSource())
        {
            var trace = _verbose ? TraceAsync(model[..model.IndexOf('.', StringComparison.Ordinal)], model, started, tracing.Token) : Task.CompletedTask;
            await WaitForCountAsync(model, expected, started);
            await tracing.CancelAsync();
            await trace;
        }

        return expected / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private async Task WaitForCountAsync(string model, long expected, long started)
    {
        long rows;
        while ((rows = await ScalarAsync<long>($"SELECT count(*) FROM {model}")) < expected)
        {
            if (Stopwatch.GetElapsedTime(started) > DrainTimeout)
            {
                throw new InvalidOperationException($"{rows} of {expected} events projected after {DrainTimeout.TotalMinutes} minutes.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Exactly one row per event: no duplicate, nothing missing.</summary>
    private async Task VerifyAsync(string schema, long expected, string when)
    {
        var model = $"{schema}.{ScaleOutSilo.ModelTable}";
        var rows = await ScalarAsync<long>($"SELECT count(*) FROM {model}");
        var duplicates = rows - await ScalarAsync<long>($"SELECT count(DISTINCT position) FROM {model}");
        var missing = await ScalarAsync<long>($"SELECT count(*) FROM {schema}.events e WHERE NOT EXISTS (SELECT 1 FROM {model} m WHERE m.position = e.position)");
        Console.WriteLine($"    check {when}: {rows:#,0} rows for {expected:#,0} events, {duplicates} duplicates, {missing} missing");
        if (rows != expected || duplicates != 0 || missing != 0)
        {
            throw new InvalidOperationException($"Read model {when}: {rows} rows for {expected} events, {duplicates} duplicates, {missing} missing.");
        }
    }

    private async Task<string> SharesAsync(string model, DateTime? after = null)
    {
        var filter = after is null ? "" : "WHERE projected_at > $1";
        await using var command = _dataSource.CreateCommand($"SELECT silo, count(*) FROM {model} {filter} GROUP BY silo ORDER BY silo");
        if (after is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = after.Value });
        }

        var shares = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            shares.Add($"silo {reader.GetInt32(0)}: {reader.GetInt64(1):#,0}");
        }

        return string.Join(", ", shares);
    }

    /// <summary>
    /// The longest time between two consecutive projected rows in (from, to], counting from <paramref name="from"/>;
    /// rows of the streams in <paramref name="except"/> left out.
    /// </summary>
    private Task<double> LongestGapAsync(string model, DateTime from, DateTime? to, string[]? except = null)
        => QueryAsync<double>(
            $"""
            SELECT coalesce(extract(epoch FROM max(at - previous)), 0)::float8 FROM (
                SELECT at, lag(at) OVER (ORDER BY at) AS previous FROM (
                    SELECT $1::timestamptz AS at
                    UNION ALL SELECT projected_at FROM {model} WHERE projected_at > $1 AND ($2::timestamptz IS NULL OR projected_at <= $2)
                        AND NOT (stream = ANY($3::text[]))) points) gaps
            """,
            from,
            to,
            except ?? []);

    /// <summary>The non-primary silo whose worker holds a live lease on a discovery checkpoint, if any.</summary>
    private async Task<SiloProcess?> DiscoveryHolderAsync(string schema, List<SiloProcess> silos)
    {
        var holder = await QueryAsync<string>(
            $"SELECT coalesce(max(leased_by), '') FROM {schema}.{Subscriptions}_checkpoints WHERE name LIKE 'discovery:%' AND leased_until > clock_timestamp()");
        return holder.Length == 0 ? null : silos.Skip(1).FirstOrDefault(s => holder.StartsWith(s.Address + "/", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"Reaction worker (\S+) started on ")]
    private static partial Regex WorkerStarted();

    [GeneratedRegex(@"Reaction worker (\S+) moves from ")]
    private static partial Regex WorkerMoves();

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    private const string BenchContextPayload = """{"amount":42,"currency":"EUR","note":"benchmark payload"}""";

    private async Task ExecAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<T> QueryAsync<T>(string sql, params object?[] parameters)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            // The only nullable parameters are an optional end time and an optional duration, typed in the SQL.
            command.Parameters.Add(parameter is null ? new NpgsqlParameter { Value = DBNull.Value } : new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Holds every event committed after it out of the settled feed: its transaction takes an id first, and the feed's
    /// fence (the oldest running transaction) stays below every later commit until it ends.
    /// </summary>
    private sealed class Gate : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private NpgsqlTransaction? _transaction;

        private Gate(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            _connection = connection;
            _transaction = transaction;
        }

        public static async Task<Gate> OpenAsync(NpgsqlDataSource dataSource)
        {
            var connection = await dataSource.OpenConnectionAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var take = new NpgsqlCommand("SELECT pg_current_xact_id()", connection, transaction);
            await take.ExecuteScalarAsync();
            return new Gate(connection, transaction);
        }

        /// <summary>Lets the held events into the feed; returns the server's time just before.</summary>
        public async Task<DateTime> ReleaseAsync()
        {
            await using var now = new NpgsqlCommand("SELECT clock_timestamp()", _connection, _transaction);
            var at = (DateTime)(await now.ExecuteScalarAsync())!;
            await _transaction!.CommitAsync();
            await _transaction.DisposeAsync();
            _transaction = null;
            return at;
        }

        public async ValueTask DisposeAsync()
        {
            if (_transaction is not null)
            {
                await _transaction.DisposeAsync();
            }

            await _connection.DisposeAsync();
        }
    }
}
