namespace OrleansPgStore.Tests.Grains;

/// <summary>The state the grain storage conformance tests write: value equality, like Orleans' TestState1.</summary>
[GenerateSerializer]
public sealed record StorageState
{
    [Id(0)]
    public string? A { get; set; }

    [Id(1)]
    public int B { get; set; }

    [Id(2)]
    public long C { get; set; }
}
