using Microsoft.Extensions.Options;

namespace OrleansPgStore.Store.Connection;

/// <summary>Checks <see cref="StoreOptions"/>; each failure names the setting that is wrong.</summary>
/// <typeparam name="TOptions">The store's options type.</typeparam>
internal sealed class StoreOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : StoreOptions
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Returns the problems with <paramref name="options"/>; empty when they are usable.</summary>
    public static IReadOnlyList<string> Check(TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var prefix = typeof(TOptions).Name;

        var hasString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasString == (options.DataSource is not null))
        {
            failures.Add(hasString
                ? $"{prefix}: set either ConnectionString or DataSource, not both."
                : $"{prefix}: ConnectionString or DataSource is required.");
        }

        CheckIdentifier(options.Schema, $"{prefix}.Schema", failures);
        CheckIdentifier(options.Table, $"{prefix}.Table", failures);

        if (options.CommandTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{prefix}.CommandTimeout must be positive (was {options.CommandTimeout}).");
        }

        return failures;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem with <paramref name="options"/>.</summary>
    public static void ThrowIfInvalid(TOptions options)
    {
        var failures = Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }
    }

    private static void CheckIdentifier(string? value, string setting, List<string> failures)
    {
        try
        {
            SqlIdentifier.Validate(value, setting);
        }
        catch (ArgumentException e)
        {
            failures.Add(e.Message.Split(" (Parameter", 2)[0]);
        }
    }
}
