using Orleans;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Serialization;

/// <summary>
/// How an <see cref="OrleansPgStoreException"/> crosses a grain boundary: its message and whether it is transient.
/// The engine knows nothing of Orleans, so without this the caller would get a codec failure instead of the error.
/// </summary>
/// <remarks>Only the base type travels this way (Orleans surrogates match exact types); the inner exception, an Npgsql
/// exception Orleans cannot serialize either, stays behind, and its text is already in the message.</remarks>
[GenerateSerializer]
internal struct StoreExceptionSurrogate
{
    [Id(0)]
    public string Message;

    [Id(1)]
    public bool IsTransient;
}

/// <summary>Converts <see cref="OrleansPgStoreException"/> to and from <see cref="StoreExceptionSurrogate"/>.</summary>
[RegisterConverter]
internal sealed class StoreExceptionConverter : IConverter<OrleansPgStoreException, StoreExceptionSurrogate>
{
    public OrleansPgStoreException ConvertFromSurrogate(in StoreExceptionSurrogate surrogate)
        => new(surrogate.Message, innerException: null, surrogate.IsTransient);

    public StoreExceptionSurrogate ConvertToSurrogate(in OrleansPgStoreException value)
        => new() { Message = value.Message, IsTransient = value.IsTransient };
}
