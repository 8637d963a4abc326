using System.Globalization;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>Durations as people read them in logs: "850 ms", "1.1 s", "2.5 min", never "1117.6106 ms".</summary>
internal static class Durations
{
    /// <summary>Formats <paramref name="duration"/> with two significant digits at most and a unit that fits.</summary>
    public static string Format(TimeSpan duration) => duration.TotalMilliseconds switch
    {
        < 1 => "<1 ms",
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{Math.Round(duration.TotalMilliseconds):0} ms"),
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s"),
        < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMinutes:0.#} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalHours:0.#} h"),
    };
}
