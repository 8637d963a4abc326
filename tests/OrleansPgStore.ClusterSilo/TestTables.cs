namespace OrleansPgStore.ClusterSilo;

/// <summary>
/// The test's own tables in the cluster's schema (the test creates them, see MultiProcessClusterTests; the
/// silos create everything else):
/// <c>ticks(grain, silo, at)</c>, one row per reminder tick; <c>model(position, stream, silo)</c>, the read model of the
/// projection, one row per event; <c>stall(target, silo)</c>, the one silo that held a lease when it was killed.
/// </summary>
public sealed record TestTables(string Schema)
{
    public string Ticks => $"\"{Schema}\".ticks";

    public string Model => $"\"{Schema}\".model";

    public string Stall => $"\"{Schema}\".stall";
}
