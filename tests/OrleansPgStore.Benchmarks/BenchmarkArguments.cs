using System.Globalization;

namespace OrleansPgStore.Benchmarks;

/// <summary>The benchmark programs' command line: <c>--name value</c> pairs.</summary>
public sealed class BenchmarkArguments(string[] args)
{
    /// <summary>The value after <paramref name="name"/>, or <c>null</c>.</summary>
    public string? String(string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Whether <paramref name="name"/> was given.</summary>
    public bool Flag(string name) => Array.IndexOf(args, name) >= 0;

    /// <summary>The number after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public double Number(string name, double fallback)
    {
        var value = String(name);
        return value is null ? fallback : double.Parse(value, CultureInfo.InvariantCulture);
    }
}
