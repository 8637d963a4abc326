using Orleans;
using Orleans.Runtime;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Options;

/// <summary>
/// Checks the options of the clustering and reminder providers when the host starts: the shared settings as
/// <see cref="PostgresOptionsValidator"/> does, and each table name.
/// </summary>
internal sealed class PostgresTableOptionsValidator : IConfigurationValidator
{
    private readonly PostgresStoreOptions _options;
    private readonly string _provider;
    private readonly (string Setting, string Value)[] _tables;

    /// <param name="options">The options to check.</param>
    /// <param name="provider">Names the provider in the message, e.g. <c>PostgreSQL clustering</c>.</param>
    /// <param name="tables">The table-name settings and their values.</param>
    public PostgresTableOptionsValidator(PostgresStoreOptions options, string provider, params (string Setting, string Value)[] tables)
    {
        _options = options;
        _provider = provider;
        _tables = tables;
    }

    public void ValidateConfiguration()
    {
        var failures = PostgresOptionsValidator.Check(_options);
        var type = _options.GetType().Name;
        foreach (var (setting, value) in _tables)
        {
            try
            {
                SqlIdentifier.Validate(value, $"{type}.{setting}");
            }
            catch (ArgumentException e)
            {
                failures.Add(e.Message.Split(" (Parameter", 2)[0]);
            }
        }

        if (failures.Count > 0)
        {
            throw new OrleansConfigurationException($"{_provider} is misconfigured: {string.Join(" ", failures)}");
        }
    }
}
