using System.Diagnostics.CodeAnalysis;
using Orleans.EventSourcing;
using Orleans.Metadata;
using Orleans.Runtime;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Makes a JournaledGrain's deactivation wait for the snapshot its adaptor is saving, so a deactivated grain leaves no
/// save behind.
/// </summary>
/// <remarks>
/// A stage of the activation's lifecycle, subscribed before the lifecycle starts (the adaptor is created during it, too
/// late to subscribe). It stops after the adaptor's own stage (<see cref="GrainLifecycleStage.SetupState"/>), whose
/// wait for the last write may queue a last snapshot. Overriding the adaptor's <c>PostOnDeactivate</c> does not do
/// this: Orleans 10 stops the adaptor through an internal variant that never calls it.
/// </remarks>
internal sealed class SnapshotSaveOnDeactivation(GrainClassMap grainClasses) : IConfigureGrainContextProvider, IConfigureGrainContext
{
    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, [NotNullWhen(true)] out IConfigureGrainContext? configurator)
    {
        var journaled = grainClasses.TryGetGrainClass(grainType, out var grainClass)
            && typeof(ILogConsistencyProtocolParticipant).IsAssignableFrom(grainClass);
        configurator = journaled ? this : null;
        return journaled;
    }

    public void Configure(IGrainContext context)
        => context.ObservableLifecycle.Subscribe(
            nameof(SnapshotSaveOnDeactivation),
            GrainLifecycleStage.SetupState - 1,
            _ => Task.CompletedTask,
            cancellationToken => WaitForSaveAsync(context, cancellationToken));

    private static async Task WaitForSaveAsync(IGrainContext context, CancellationToken cancellationToken)
    {
        if (context.GetComponent<SnapshotWriter>() is not { } writer)
        {
            return;
        }

        try
        {
            await writer.WhenIdleAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Orleans' deactivation time is up (a save stuck in an outage): the grain goes, the save finishes or fails on its own.
        }
    }
}
