using System.Text.RegularExpressions;
using OrleansPgStore.TestSupport;

namespace OrleansPgStore.Store.Tests;

/// <summary>
/// docs/development.md: concept folders of the engine and the plugin never import each other in a circle (a folder
/// naming another folder's namespace, in a using or a qualified name, is an import). The same rule as
/// <c>build/folder-cycles.py</c>, run on the repository's sources with every test run.
/// </summary>
public sealed partial class FolderCycleTests
{
    [Theory]
    [InlineData("src/OrleansPgStore.Store", "OrleansPgStore.Store")]
    [InlineData("src/OrleansPgStore", "OrleansPgStore")]
    public void Concept_folders_import_each_other_in_no_circle(string project, string rootNamespace)
    {
        var root = Path.Combine(RepositoryRoot.Path, project);
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("bin" or "obj")).ToHashSet(StringComparer.Ordinal);
        var imports = folders.ToDictionary(f => f, f => Imports(Path.Combine(root, f), rootNamespace, folders, f));

        Assert.True(folders.Count > 3, $"{root} has no concept folders to check");
        Assert.Empty(Cycles(imports));
    }

    [Fact]
    public void The_check_finds_a_circle_through_several_folders_and_none_in_a_chain()
    {
        // Negative control of the rule itself.
        var circle = new Dictionary<string, HashSet<string>>
        {
            ["Journal"] = ["Connection"], ["Connection"] = ["Leasing"], ["Leasing"] = ["Journal"], ["State"] = ["Journal"],
        };
        var chain = new Dictionary<string, HashSet<string>>
        {
            ["Journal"] = ["Connection"], ["Connection"] = [], ["Leasing"] = ["Journal", "Connection"], ["State"] = ["Journal"],
        };

        Assert.Equal(["Connection <-> Journal <-> Leasing"], Cycles(circle));
        Assert.Empty(Cycles(chain));
    }

    private static HashSet<string> Imports(string folder, string rootNamespace, HashSet<string> folders, string self)
    {
        var named = new Regex(Regex.Escape(rootNamespace) + @"\.(\w+)");
        return Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(file => named.Matches(LineComment().Replace(File.ReadAllText(file), "")).Select(m => m.Groups[1].Value))
            .Where(name => folders.Contains(name) && name != self)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every set of folders that reach each other, as "A &lt;-&gt; B" in ordinal order.</summary>
    private static List<string> Cycles(Dictionary<string, HashSet<string>> imports)
    {
        var reach = imports.ToDictionary(p => p.Key, p => new HashSet<string>(p.Value, StringComparer.Ordinal));
        foreach (var _ in imports)
        {
            foreach (var folder in imports.Keys)
            {
                reach[folder].UnionWith(reach[folder].SelectMany(b => reach.GetValueOrDefault(b) ?? []).ToList());
            }
        }

        return imports.Keys
            .Where(f => reach[f].Contains(f))
            .Select(f => string.Join(" <-> ", reach[f].Where(g => reach[g].Contains(f)).Append(f).Distinct().Order(StringComparer.Ordinal)))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
    }


    [GeneratedRegex("//.*")]
    private static partial Regex LineComment();
}
