using System.Globalization;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Cli;

/// <summary>How the tool prints numbers, sizes and durations: the same on every machine.</summary>
internal static class Format
{
    public static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", Culture) + " kB",
        < 1024L * 1024 * 1024 => (bytes / 1024.0 / 1024).ToString("0.#", Culture) + " MB",
        _ => (bytes / 1024.0 / 1024 / 1024).ToString("0.#", Culture) + " GB",
    };

    public static string Duration(TimeSpan duration) => Durations.Format(duration);

    public static string Shorten(string text, int max)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    public static string Time(DateTimeOffset? time) => time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", Culture) ?? "-";
}
