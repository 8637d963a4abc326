using Microsoft.Extensions.Logging;
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
/// joins; <see cref="ReactionWorkerSupervisor"/> moves the few a balanced spread needs, and a worker moves only when
/// its own silo's placement names the destination the supervisor asked for (see
/// <see cref="IReactionWorkerGrain.MoveToItsSiloAsync"/>).
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
    /// The silos among <paramref name="candidates"/> (active silos whose manifest has the worker grain) that run
    /// <paramref name="provider"/>'s reactions, ordered by address (the same order on every silo); all candidates when
    /// none says so (a mixed cluster still places its workers).
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

/// <summary>
/// Orleans' placement director for <see cref="ReactionWorkerPlacement"/>: runs on the silo that creates (or migrates)
/// the activation. The worker grain and the supervisor ask it too (<see cref="Silos"/>, <see cref="SiloFor"/>), so a
/// move is decided from the same view as the placement that carries it out.
/// </summary>
internal sealed partial class ReactionWorkerPlacementDirector(
    IClusterManifestProvider manifest,
    IClusterMembershipService membership,
    IOptionsMonitor<PostgresJournalOptions> options,
    ILocalSiloDetails local,
    ILogger<ReactionWorkerPlacementDirector> logger)
    : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = ReactionWorkerKey.Parse(target.GrainIdentity.Key.ToString()!);
        var silos = Silos(key.Provider, target.GrainIdentity.Type);
        if (silos.Count == 0)
        {
            // This silo's membership view has no active silo with the worker yet (e.g. still joining): Orleans' own view.
            silos = ReactionWorkerPlacement.Silos(manifest.Current, target.GrainIdentity.Type, key.Provider, context.GetCompatibleSilos(target));
        }

        var chosen = SiloFor(key, silos);
        // A worker that moves names its destination (it checked it against this view a moment ago): keep it while it
        // is still one of the silos, so the move is not turned into a plain restart by a view that changed meanwhile.
        if (target.RequestContextData?.TryGetValue(IPlacementDirector.PlacementHintKey, out var hint) == true
            && hint is SiloAddress destination && silos.Contains(destination))
        {
            chosen = destination;
        }

        LogPlaced(logger, key.ToString(), local.SiloAddress, chosen, string.Join(", ", silos), membership.CurrentSnapshot.Version.Value);
        return Task.FromResult(chosen);
    }

    /// <summary>
    /// The silos that run <paramref name="provider"/>'s workers as this silo sees them now: active in its membership
    /// snapshot, with the worker grain in their manifest (and saying they run the reactions), ordered by address.
    /// </summary>
    internal IReadOnlyList<SiloAddress> Silos(string provider, GrainType workerType)
    {
        var current = manifest.Current;
        var active = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active
                        && current.Silos.TryGetValue(m.SiloAddress, out var silo) && silo.Grains.ContainsKey(workerType))
            .Select(m => m.SiloAddress);
        return ReactionWorkerPlacement.Silos(current, workerType, provider, active);
    }

    /// <summary>The silo among <paramref name="silos"/> (from <see cref="Silos"/>) that worker <paramref name="key"/> belongs on.</summary>
    internal SiloAddress SiloFor(ReactionWorkerKey key, IReadOnlyList<SiloAddress> silos)
        => ReactionWorkerPlacement.SiloFor(key, ReactionWorkerKey.All(key.Provider, options.Get(key.Provider).Reactions), silos);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reaction worker {Worker} placed by {Local} on {Chosen} of [{Silos}] (membership {MembershipVersion})")]
    private static partial void LogPlaced(ILogger logger, string worker, SiloAddress local, SiloAddress chosen, string silos, long membershipVersion);
}
