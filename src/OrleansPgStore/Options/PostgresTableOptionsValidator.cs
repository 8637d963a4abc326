using Orleans;
using Orleans.Runtime;
using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Options;

/// <summary>
/// Checks the options of the clustering and reminder providers when the host starts: the shared settings as
/// <see cref="PostgresOptionsValidator"/> does, and each table name.
/// </summary>
/// <typeparam name="TOptions">The provider's options type.</typeparam>
internal sealed class PostgresTableOptionsValidator<TOptions> : IConfigurationValidator
    where TOptions : PostgresStoreOptions
{
    private readonly Func<TOptions> _options;
    private readonly string _provider;
    private readonly Func<TOptions, (string Setting, string Value)[]> _tables;

    /// <param name="options">Gets the options to check, only when the check runs: options that follow another
    /// registration (<c>UseOrleansPgStore</c>) are built from it, whose own validator runs first.</param>
    /// <param name="provider">Names the provider in the message, e.g. <c>PostgreSQL clustering</c>.</param>
    /// <param name="tables">The table-name settings of the options and their values.</param>
    public PostgresTableOptionsValidator(
        Func<TOptions> options, string provider, Func<TOptions, (string Setting, string Value)[]> tables)
    {
        _options = options;
        _provider = provider;
        _tables = tables;
    }

    public void ValidateConfiguration()
    {
        var options = _options();
        var failures = PostgresOptionsValidator.Check(options);
        var type = options.GetType().Name;
        foreach (var (setting, value) in _tables(options))
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
