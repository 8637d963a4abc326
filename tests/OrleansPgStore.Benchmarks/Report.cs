using System.Globalization;
using System.Text;

namespace OrleansPgStore.Benchmarks;

/// <summary>Collects result rows and prints them as one Markdown table.</summary>
public sealed class Report
{
    private readonly List<(string Scenario, string Baseline, string Ours, string Ratio, string Target)> _rows = [];

    public void Add(string scenario, double baseline, double ours, string unit, string target, bool lowerIsBetter = false)
    {
        var ratio = lowerIsBetter ? ours / baseline : ours / baseline;
        _rows.Add((scenario, Format(baseline, unit), Format(ours, unit), ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×", target));
        Console.WriteLine($"  {scenario}: baseline {Format(baseline, unit)}, ours {Format(ours, unit)} ({ratio:0.00}×)");
    }

    /// <summary>Two measured values side by side with no ratio (counts, where a ratio would mean nothing or divide by zero).</summary>
    public void AddPair(string scenario, double baseline, double ours, string unit, string target)
    {
        _rows.Add((scenario, Format(baseline, unit), Format(ours, unit), "", target));
        Console.WriteLine($"  {scenario}: baseline {Format(baseline, unit)}, ours {Format(ours, unit)}");
    }

    public void AddValue(string scenario, double ours, string unit, string target)
    {
        _rows.Add((scenario, "", Format(ours, unit), "", target));
        Console.WriteLine($"  {scenario}: {Format(ours, unit)}");
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| Scenario | Raw SQL baseline | OrleansPgStore | Ratio | Target |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var r in _rows)
        {
            text.AppendLine($"| {r.Scenario} | {r.Baseline} | {r.Ours} | {r.Ratio} | {r.Target} |");
        }

        return text.ToString();
    }

    private static string Format(double value, string unit) => double.IsNaN(value) ? "n/a" : unit switch
    {
        "ms" => value.ToString("0.00", CultureInfo.InvariantCulture) + " ms",
        "s" => value.ToString("0.00", CultureInfo.InvariantCulture) + " s",
        "ns" => value.ToString("#,0.0", CultureInfo.InvariantCulture) + " ns",
        "%" => value.ToString("0.0###", CultureInfo.InvariantCulture) + " %",
        _ => (value.ToString("#,0", CultureInfo.InvariantCulture) + " " + unit).TrimEnd(),
    };
}
