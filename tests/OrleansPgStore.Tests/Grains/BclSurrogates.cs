using System.Collections.Concurrent;
using System.Numerics;

namespace OrleansPgStore.Tests.Grains;

// Orleans 10 has no codec for these BCL types (and no copier for the two collections), so an app whose grain state
// holds them registers surrogates, as below; with them, Orleans serializes and copies them, and so do snapshots.

[GenerateSerializer]
public struct ComplexSurrogate
{
    [Id(0)] public double Real;
    [Id(1)] public double Imaginary;
}

[RegisterConverter]
public sealed class ComplexConverter : IConverter<Complex, ComplexSurrogate>
{
    public Complex ConvertFromSurrogate(in ComplexSurrogate surrogate) => new(surrogate.Real, surrogate.Imaginary);

    public ComplexSurrogate ConvertToSurrogate(in Complex value) => new() { Real = value.Real, Imaginary = value.Imaginary };
}

[GenerateSerializer]
public struct VectorSurrogate
{
    [Id(0)] public float X;
    [Id(1)] public float Y;
    [Id(2)] public float Z;
    [Id(3)] public float W;
}

[RegisterConverter]
public sealed class Vector2Converter : IConverter<Vector2, VectorSurrogate>
{
    public Vector2 ConvertFromSurrogate(in VectorSurrogate surrogate) => new(surrogate.X, surrogate.Y);

    public VectorSurrogate ConvertToSurrogate(in Vector2 value) => new() { X = value.X, Y = value.Y };
}

[RegisterConverter]
public sealed class Vector3Converter : IConverter<Vector3, VectorSurrogate>
{
    public Vector3 ConvertFromSurrogate(in VectorSurrogate surrogate) => new(surrogate.X, surrogate.Y, surrogate.Z);

    public VectorSurrogate ConvertToSurrogate(in Vector3 value) => new() { X = value.X, Y = value.Y, Z = value.Z };
}

[RegisterConverter]
public sealed class Vector4Converter : IConverter<Vector4, VectorSurrogate>
{
    public Vector4 ConvertFromSurrogate(in VectorSurrogate surrogate) => new(surrogate.X, surrogate.Y, surrogate.Z, surrogate.W);

    public VectorSurrogate ConvertToSurrogate(in Vector4 value) => new() { X = value.X, Y = value.Y, Z = value.Z, W = value.W };
}

[GenerateSerializer]
public struct SequenceSurrogate<T>
{
    /// <summary>In enumeration order (a stack's top first).</summary>
    [Id(0)] public T[] Items;
}

[RegisterConverter]
public sealed class ConcurrentStackConverter<T> : IConverter<ConcurrentStack<T>, SequenceSurrogate<T>>
{
    public ConcurrentStack<T> ConvertFromSurrogate(in SequenceSurrogate<T> surrogate) => new(surrogate.Items.Reverse());

    public SequenceSurrogate<T> ConvertToSurrogate(in ConcurrentStack<T> value) => new() { Items = value.ToArray() };
}

[RegisterConverter]
public sealed class LinkedListConverter<T> : IConverter<LinkedList<T>, SequenceSurrogate<T>>
{
    public LinkedList<T> ConvertFromSurrogate(in SequenceSurrogate<T> surrogate) => new(surrogate.Items);

    public SequenceSurrogate<T> ConvertToSurrogate(in LinkedList<T> value) => new() { Items = [.. value] };
}
