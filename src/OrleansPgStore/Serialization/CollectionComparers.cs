using System.Collections.Concurrent;
using System.Reflection;

namespace OrleansPgStore.Serialization;

/// <summary>
/// Refuses to store a dictionary or set whose comparer is not the default: JSON has no place for it, so it would read
/// back with the default comparer and behave differently (<c>ContainsKey("ALICE")</c> true before, false after).
/// </summary>
/// <remarks>The comparer is state of the instance, so it is checked on every write of a collection type that has one
/// (a public <c>Comparer</c>, <c>KeyComparer</c> or <c>ValueComparer</c> property); the properties are found once per type.</remarks>
internal static class CollectionComparers
{
    private static readonly ConcurrentDictionary<Type, ComparerProperty[]> Comparers = new();

    /// <summary>True when instances of <paramref name="type"/> may carry a comparer.</summary>
    public static bool MayHaveComparer(Type type) => !type.IsInterface && !type.IsAbstract && Find(type).Length > 0;

    /// <summary>Throws when <paramref name="collection"/>'s comparer is not the default one.</summary>
    public static void EnsureDefault(object collection)
    {
        foreach (var (name, get, @default) in Find(collection.GetType()))
        {
            var comparer = get(collection);
            if (comparer is not null && !IsDefault(comparer, @default))
            {
                throw new NotSupportedException(
                    $"A {Describe(collection.GetType())} with the comparer {comparer.GetType().FullName} ({name}) cannot be " +
                    "stored faithfully: JSON has no place for a comparer, so it would read back with the default one. Store " +
                    "keys normalized (e.g. upper-cased) in a collection with the default comparer, or keep the collection out of " +
                    "the stored state.");
            }
        }
    }

    private static bool IsDefault(object comparer, object @default)
        => ReferenceEquals(comparer, @default) || comparer.Equals(@default)
            // For strings, ordinal comparison is what the default comparer does.
            || (ReferenceEquals(comparer, StringComparer.Ordinal) && @default is EqualityComparer<string> or Comparer<string>);

    private static ComparerProperty[] Find(Type type) => Comparers.GetOrAdd(type, static t =>
    {
        var found = new List<ComparerProperty>();
        foreach (var property in t.GetProperties(BindingFlags.Instance | BindingFlags.Public))
        {
            if (property.Name is not ("Comparer" or "KeyComparer" or "ValueComparer") || !property.PropertyType.IsGenericType
                || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var definition = property.PropertyType.GetGenericTypeDefinition();
            var compared = property.PropertyType.GetGenericArguments()[0];
            var @default = definition == typeof(IEqualityComparer<>) ? typeof(EqualityComparer<>)
                : definition == typeof(IComparer<>) ? typeof(Comparer<>)
                : null;
            if (@default is not null && !t.IsValueType && property.GetMethod is { IsPublic: true } getter)
            {
                found.Add(new(property.Name, Getter(t, property.PropertyType, getter),
                    @default.MakeGenericType(compared).GetProperty("Default")!.GetValue(null)!));
            }
        }

        return found.ToArray();
    });

    /// <summary>A compiled getter: this runs on every write of such a collection.</summary>
    private static Func<object, object?> Getter(Type owner, Type result, MethodInfo getter)
        => (Func<object, object?>)typeof(CollectionComparers).GetMethod(nameof(TypedGetter), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(owner, result).Invoke(null, [getter])!;

    private static Func<object, object?> TypedGetter<TOwner, TResult>(MethodInfo getter)
    {
        var get = getter.CreateDelegate<Func<TOwner, TResult>>();
        return instance => get((TOwner)instance);
    }

    private static string Describe(Type type) => type.FullName ?? type.Name;

    private readonly record struct ComparerProperty(string Name, Func<object, object?> Get, object Default);
}
