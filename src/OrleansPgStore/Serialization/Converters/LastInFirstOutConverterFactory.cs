using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansPgStore.Serialization.Converters;

/// <summary>
/// Stacks and bags as JSON arrays in their enumeration order (a stack's top first), read back so they enumerate in the
/// same order. System.Text.Json writes them top first but pushes in that order on read, reversing them (a
/// <see cref="ConcurrentBag{T}"/> it cannot read at all).
/// </summary>
internal sealed class LastInFirstOutConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert)
        => typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() is var definition
            && (definition == typeof(Stack<>) || definition == typeof(ConcurrentStack<>)
                || definition == typeof(ImmutableStack<>) || definition == typeof(ConcurrentBag<>));

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var definition = typeToConvert.GetGenericTypeDefinition();
        var converter = definition == typeof(Stack<>) ? typeof(StackConverter<>)
            : definition == typeof(ConcurrentStack<>) ? typeof(ConcurrentStackConverter<>)
            : definition == typeof(ImmutableStack<>) ? typeof(ImmutableStackConverter<>)
            : typeof(ConcurrentBagConverter<>);
        return (JsonConverter)Activator.CreateInstance(converter.MakeGenericType(typeToConvert.GetGenericArguments()))!;
    }

    private abstract class Converter<TCollection, T> : JsonConverter<TCollection>
        where TCollection : IEnumerable<T>
    {
        public override TCollection Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var items = JsonSerializer.Deserialize<List<T>>(ref reader, options)
                ?? throw new JsonException($"Expected an array for {typeToConvert}.");
            items.Reverse();
            return Create(items);
        }

        public override void Write(Utf8JsonWriter writer, TCollection value, JsonSerializerOptions options)
        {
            var element = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            writer.WriteStartArray();
            foreach (var item in value)
            {
                JsonSerializer.Serialize(writer, item, element);
            }

            writer.WriteEndArray();
        }

        /// <summary>Builds the collection by adding <paramref name="bottomFirst"/> in order (the last added enumerates first).</summary>
        protected abstract TCollection Create(List<T> bottomFirst);
    }

    private sealed class StackConverter<T> : Converter<Stack<T>, T>
    {
        protected override Stack<T> Create(List<T> bottomFirst) => new(bottomFirst);
    }

    private sealed class ConcurrentStackConverter<T> : Converter<ConcurrentStack<T>, T>
    {
        protected override ConcurrentStack<T> Create(List<T> bottomFirst) => new(bottomFirst);
    }

    private sealed class ImmutableStackConverter<T> : Converter<ImmutableStack<T>, T>
    {
        protected override ImmutableStack<T> Create(List<T> bottomFirst) => ImmutableStack.CreateRange(bottomFirst);
    }

    private sealed class ConcurrentBagConverter<T> : Converter<ConcurrentBag<T>, T>
    {
        // A bag filled on one thread enumerates its items last added first, like a stack.
        protected override ConcurrentBag<T> Create(List<T> bottomFirst) => new(bottomFirst);
    }
}
