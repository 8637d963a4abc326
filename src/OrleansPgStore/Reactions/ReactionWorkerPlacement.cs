using Microsoft.Extensions.Options;
using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using OrleansPgStore.Options;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Where Orleans places a reaction worker grain: a registration's workers are numbered one after the other (lanes in
/// ordinal order, see <see cref="ReactionWorkerKey.All"/>) and worker k goes to the k-th (mod n) of the n active silos
/// that run that registration's reactions, ordered by address. Every silo computes the same answer, so N workers
/// spread evenly (give or take one) whichever silo places them, and one worker per lane does not pile up on one silo.
/// </summary>
/// <remarks>
/// Orleans asks only when it creates an activation: a silo start, a worker lost with its silo (the supervisor's
/// check or the worker's reminder calls it again), or a migration. Existing workers stay where they are when a silo
/// joins; <see cref="ReactionWorkerSupervisor"/> moves the few a balanced spread needs.
/// </remarks>
[GenerateSerializer, Immutable, Alias("OrleansPgStore.Reactions.ReactionWorkerPlacement")]
internal sealed class ReactionWorkerPlacement : PlacementStrategy
{
    internal static readonly ReactionWorkerPlacement Instance = new();

    /// <summary>
    /// The grain property by which a silo's manifest says it runs the reactions of <paramref name="provider"/>: a silo
    /// without them (another role, or no reactions configured) is never given that registration's workers.
    /// </summary>
    internal static string RunsReactionsProperty(string provider) => $"orleanspgstore.reactions/{provider}";

    /// <summary>
    /// The silos among <paramref name="candidates"/> that run <paramref name="provider"/>'s reactions, ordered by address
    /// (the same order on every silo); all candidates when none says so (a mixed cluster still places its workers).
    /// </summary>
    internal static IReadOnlyList<SiloAddress> Silos(
        ClusterManifest manifest, GrainType workerType, string provider, IEnumerable<SiloAddress> candidates)
    {
        var property = RunsReactionsProperty(provider);
        var ordered = candidates.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToList();
        var running = ordered
            .Where(s => manifest.Silos.TryGetValue(s, out var silo)
                        && silo.Grains.TryGetValue(workerType, out var grain)
                        && grain.Properties.ContainsKey(property))
            .ToList();
        return running.Count > 0 ? running : ordered;
    }

    /// <summary>The silo worker <paramref name="key"/> belongs on: its number among <paramref name="all"/>, mod the silos.</summary>
    internal static SiloAddress SiloFor(ReactionWorkerKey key, List<ReactionWorkerKey> all, IReadOnlyList<SiloAddress> silos)
    {
        var number = all.IndexOf(key);
        // A worker this silo's settings do not number (a lane it does not know): its index alone.
        return silos[(number < 0 ? key.Index : number) % silos.Count];
    }
}

/// <summary>Places the grain class with <see cref="ReactionWorkerPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class ReactionWorkerPlacementAttribute() : PlacementAttribute(ReactionWorkerPlacement.Instance);

/// <summary>Orleans' placement director for <see cref="ReactionWorkerPlacement"/>: runs on the silo that creates the activation.</summary>
internal sealed partial class ReactionWorkerPlacementDirector(
    IClusterManifestProvider manifest, IOptionsMonitor<PostgresJournalOptions> options, ILocalSiloDetails local,
    IClusterMembershipService membership, Microsoft.Extensions.Logging.ILogger<ReactionWorkerPlacementDirector> logger)
    : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = ReactionWorkerKey.Parse(target.GrainIdentity.Key.ToString()!);
        var compatible = context.GetCompatibleSilos(target);
        var current = manifest.Current;
        var silos = ReactionWorkerPlacement.Silos(current, target.GrainIdentity.Type, key.Provider, compatible);
        var chosen = ReactionWorkerPlacement.SiloFor(key, ReactionWorkerKey.All(key.Provider, options.Get(key.Provider).Reactions), silos);
        var snapshot = membership.CurrentSnapshot;
        LogPlaced(logger, key.ToString(), local.SiloAddress, string.Join(",", compatible.Select(s => s.ToString())),
            string.Join(",", silos.Select(s => s.ToString())), current.Version.ToString(), snapshot.Version.Value,
            string.Join(",", snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToString())), chosen);
        return Task.FromResult(chosen);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Debug,
        Message = "DIAG director on {Local} places {Worker} -> {Chosen}: compatible [{Compatible}], ordered [{Silos}], manifest {ManifestVersion}, membership {MembershipVersion} active [{Active}]")]
    private static partial void LogPlaced(Microsoft.Extensions.Logging.ILogger logger, string worker, SiloAddress local, string compatible, string silos,
        string manifestVersion, long membershipVersion, string active, SiloAddress chosen);
}
