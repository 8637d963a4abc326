using System.Globalization;
using Microsoft.Extensions.Logging;
using Orleans.EventSourcing;
using Orleans.Runtime;
using Orleans.Serialization;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// What a log view adaptor needs from the runtime. Orleans keeps its own implementation internal (and registers
/// it only from its built-in providers), so without this one no JournaledGrain could activate.
/// </summary>
internal sealed partial class PostgresProtocolServices : ILogConsistencyProtocolServices
{
    private readonly IGrainContext _grainContext;
    private readonly DeepCopier _copier;
    private readonly ILogger _logger;

    public PostgresProtocolServices(IGrainContext grainContext, DeepCopier copier, string clusterId, ILogger logger)
    {
        _grainContext = grainContext;
        _copier = copier;
        _logger = logger;
        MyClusterId = clusterId;
    }

    public GrainId GrainId => _grainContext.GrainId;

    public string MyClusterId { get; }

    // The copier annotates its result as nullable only because a null input copies to null.
    public T DeepCopy<T>(T value) => _copier.Copy(value)!;

    public void ProtocolError(string msg, bool throwexception)
    {
        LogProtocolError(_logger, GrainId, msg);
        if (throwexception)
        {
            throw new OrleansException($"{msg} (grain={GrainId}, cluster={MyClusterId})");
        }
    }

    public void CaughtException(string where, Exception e) => LogCaughtException(_logger, e, GrainId, where);

    public void CaughtUserCodeException(string callback, string where, Exception e)
        => LogUserCodeException(_logger, e, GrainId, callback, where);

    public void Log(LogLevel level, string format, params object[] args)
    {
        if (_logger.IsEnabled(level))
        {
            LogProtocol(_logger, level, GrainId, string.Format(CultureInfo.InvariantCulture, format, args));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{GrainId} log-consistency protocol error: {Message}")]
    private static partial void LogProtocolError(ILogger logger, GrainId grainId, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "{GrainId} exception caught at {Location}")]
    private static partial void LogCaughtException(ILogger logger, Exception exception, GrainId grainId, string location);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GrainId} exception in grain code {Callback}, called from {Location}")]
    private static partial void LogUserCodeException(ILogger logger, Exception exception, GrainId grainId, string callback, string location);

    [LoggerMessage(Message = "{GrainId} {Message}")]
    private static partial void LogProtocol(ILogger logger, LogLevel level, GrainId grainId, string message);
}
