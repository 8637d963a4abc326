using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using OrleansPgStore.Options;

namespace OrleansPgStore.Hosting;

/// <summary>
/// Creates a provider's tables when the silo starts. Registered unkeyed, because the silo only runs unkeyed
/// lifecycle participants; it resolves the provider inside the stage (after the options were validated), never
/// while the silo is being constructed.
/// </summary>
internal sealed partial class PostgresSchemaSeeder : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly string _provider;
    private readonly PostgresStoreOptions _options;
    private readonly Func<CancellationToken, Task> _seed;
    private readonly ILogger _logger;

    /// <param name="provider">Names the provider in logs and errors, e.g. <c>PostgreSQL journal 'Postgres'</c>.</param>
    /// <param name="options">Says whether and at which stage to seed.</param>
    /// <param name="seed">Creates the tables.</param>
    /// <param name="logger">Where to log.</param>
    public PostgresSchemaSeeder(string provider, PostgresStoreOptions options, Func<CancellationToken, Task> seed, ILogger<PostgresSchemaSeeder> logger)
    {
        _provider = provider;
        _options = options;
        _seed = seed;
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (_options.SeedSchema)
        {
            lifecycle.Subscribe($"{nameof(PostgresSchemaSeeder)}-{_provider}", _options.InitStage, SeedAsync);
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _seed(cancellationToken).ConfigureAwait(false);
            LogSeeded(_logger, _provider, _options.Schema);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSeedFailed(_logger, e, _provider, _options.Schema);
            throw new OrleansException($"{_provider} could not create its tables in schema '{_options.Schema}': {e.Message}", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider}: tables in schema {Schema} are in place")]
    private static partial void LogSeeded(ILogger logger, string provider, string schema);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Provider}: creating the tables in schema {Schema} failed")]
    private static partial void LogSeedFailed(ILogger logger, Exception exception, string provider, string schema);
}
