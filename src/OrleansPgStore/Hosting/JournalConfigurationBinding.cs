using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansPgStore.Options;

namespace OrleansPgStore.Hosting;

/// <summary>Binds <see cref="PostgresJournalOptions"/> to a configuration section, refusing keys that were renamed.</summary>
internal static class JournalConfigurationBinding
{
    // Keys of older releases the binder would skip without a word, leaving the defaults in place: (old, new).
    private static readonly (string Old, string New)[] Renamed =
    [
        ("Reactions:Loop", "Reactions:Worker"),
        ("ActivationReadConnections", "WarmReadConnections"),
    ];

    /// <summary>Binds <paramref name="section"/>; resolving the options fails, naming the key, when it uses a renamed key.</summary>
    public static OptionsBuilder<PostgresJournalOptions> BindJournal(this OptionsBuilder<PostgresJournalOptions> options, IConfiguration section)
        => options.Bind(section).Validate(
            _ => RenamedKeysIn(section).Count == 0,
            $"The configuration of {options.Name} uses keys that were renamed: {string.Join("; ", RenamedKeysIn(section))}.");

    /// <summary>"old → new" for each renamed key present in <paramref name="section"/>.</summary>
    internal static List<string> RenamedKeysIn(IConfiguration section)
        => Renamed.Where(r => section.GetSection(r.Old).Exists()).Select(r => $"'{r.Old}' is now '{r.New}'").ToList();
}
