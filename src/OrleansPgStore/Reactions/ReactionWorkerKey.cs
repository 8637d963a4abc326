namespace OrleansPgStore.Reactions;

/// <summary>
/// The key of a reaction worker grain: <c>{provider}/{index}</c> for the default lane (the key workers always had, so
/// their reminders still find them), <c>{provider}/{index}/lane:{lane, escaped}</c> for another lane. Escaping keeps
/// '/' out of the lane part, so a key splits back into its parts whatever the provider's and the lane's names.
/// </summary>
internal readonly record struct ReactionWorkerKey(string Provider, string Lane, int Index)
{
    private const string LaneMark = "lane:";

    public override string ToString()
        => Lane.Length == 0 ? $"{Provider}/{Index}" : $"{Provider}/{Index}/{LaneMark}{Uri.EscapeDataString(Lane)}";

    public static ReactionWorkerKey Parse(string key)
    {
        var lane = "";
        var last = key.LastIndexOf('/');
        if (last >= 0 && key.AsSpan(last + 1).StartsWith(LaneMark, StringComparison.Ordinal))
        {
            lane = Uri.UnescapeDataString(key[(last + 1 + LaneMark.Length)..]);
            key = key[..last];
            last = key.LastIndexOf('/');
        }

        if (last < 0 || !int.TryParse(key.AsSpan(last + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            throw new FormatException($"'{key}' is not a reaction worker key ({{provider}}/{{index}}[/{LaneMark}{{lane}}]).");
        }

        return new ReactionWorkerKey(key[..last], lane, index);
    }
}
