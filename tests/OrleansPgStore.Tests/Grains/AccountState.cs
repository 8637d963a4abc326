namespace OrleansPgStore.Tests.Grains;

[GenerateSerializer]
public sealed class AccountState
{
    [Id(0)]
    public decimal Balance { get; set; }

    [Id(1)]
    public List<string> Memos { get; set; } = [];

    [Id(2)]
    public List<string> Notes { get; set; } = [];
}
