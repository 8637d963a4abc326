using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Hosting;

namespace OrleansPgStore.Plugin.Benchmarks.ScaleOut;

/// <summary>
/// One silo process of the scale-out benchmark (<c>--silo</c>): an Orleans silo with <c>AddPostgresJournal</c> and a
/// transactional projection writing one row per event into the read model, stamped with this silo's index and the
/// insert time. Prints <c>READY {silo address}</c> on stdout once started, and exits when its stdin closes, so it never
/// outlives the benchmark that started it.
/// </summary>
internal static class ScaleOutSilo
{
    /// <summary>The event name the benchmark commits and the projection handles.</summary>
    public const string EventName = "Happened";

    /// <summary>The read model: one row per projected event.</summary>
    public const string ModelTable = "scale_model";

    public static async Task RunAsync(BenchmarkArguments arguments)
    {
        var connectionString = Required(arguments, "--connection");
        var schema = Required(arguments, "--schema");
        var index = (int)arguments.Number("--index", 0);
        var siloPort = (int)arguments.Number("--silo-port", 0);
        var gatewayPort = (int)arguments.Number("--gateway-port", 0);
        var primaryPort = (int)arguments.Number("--primary-port", 0);
        var workers = (int)arguments.Number("--workers", 6);
        var cluster = Required(arguments, "--cluster");

        var builder = Host.CreateApplicationBuilder();
        // stdout carries the READY line to the parent; logs go to stderr, one line each (the parent echoes some).
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("OrleansPgStore.Reactions.ReactionWorkerSupervisor", LogLevel.Information);
        if (arguments.Flag("--verbose"))
        {
            builder.Logging.AddFilter("OrleansPgStore", LogLevel.Debug);
        }
        else
        {
            // Where each worker starts and moves (the parent waits for them to spread); no reminder service here, so
            // each worker's reminder registration also warns, as expected (the parent does not echo it).
            builder.Logging.AddFilter("OrleansPgStore.Reactions.ReactionWorkerGrain", LogLevel.Information);
        }

        var model = $"{schema}.{ModelTable}";
        builder.UseOrleans(silo => silo
            // Development clustering across processes: silo 0 is the primary that holds the membership table.
            .UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort), serviceId: "scaleout", clusterId: cluster)
            // A killed silo is declared dead within a few seconds (defaults: 5 s probes, 3 misses, 2 votes), unless the
            // run measures Orleans' defaults (--membership default).
            .Configure<ClusterMembershipOptions>(o =>
            {
                if (arguments.String("--membership") != "default")
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                    o.NumVotesForDeathDeclaration = 1;
                }
            })
            .AddPostgresJournal(options =>
            {
                options.ConnectionString = connectionString;
                options.Schema = schema;
                options.Reactions.Workers = workers;
                // As in the engine's projection benchmark: 20 targets × 100 events per cycle.
                options.Reactions.Worker.MaxClaim = 20;
                options.Reactions.Worker.PageSize = 100;
                options.Reactions.Worker.CorrelationBatch = 5_000;
                options.Reactions.Project([EventName], async (batch, _, ct) =>
                {
                    // One statement per cycle, in the worker's transaction; no unique key, so a duplicate would show.
                    var events = batch.Events.ToList();
                    await using var insert = batch.CreateCommand(
                        $"INSERT INTO {model} (position, stream, silo) SELECT p, s, $3 FROM unnest($1::bigint[], $2::text[]) AS u(p, s)");
                    insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
                    insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
                    insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = index });
                    await insert.ExecuteNonQueryAsync(ct);
                });
            }));

        using var host = builder.Build();
        await host.StartAsync();
        var address = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {address}"));
        Console.Out.Flush();

        // Runs until the parent closes stdin (it also does so by dying); it kills the silo it measures handover with.
        while (await Console.In.ReadLineAsync() is not null)
        {
        }

        Environment.Exit(0);
    }

    private static string Required(BenchmarkArguments arguments, string name)
        => arguments.String(name) ?? throw new ArgumentException($"The silo mode needs {name}.");
}
