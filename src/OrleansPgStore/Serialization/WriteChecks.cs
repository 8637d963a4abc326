using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OrleansPgStore.Serialization;

/// <summary>
/// What only the value being written can tell: a dictionary or set with a comparer JSON cannot hold, and an instance
/// of a derived type in a member (or collection element) declared as its base, which would be stored, and read back, as
/// the base.
/// </summary>
/// <remarks>The check for a declared type is built once; members whose declared type allows neither (a sealed type, a
/// value type, a <c>List&lt;int&gt;</c>) are written without one. A member's check also walks the collections it holds,
/// so a refusal deep in a <c>Dictionary&lt;string, HashSet&lt;string&gt;&gt;</c> still names the owner and member.</remarks>
internal static class WriteChecks
{
    private static readonly ConcurrentDictionary<(JsonSerializerOptions Options, Type Declared), Action<object>?> Checks = new();

    /// <summary>Checks a member's value when it is written, naming owner and member.</summary>
    public static void Add(JsonPropertyInfo property, Type owner)
    {
        if (property.Get is not { } get || CheckFor(property.Options, property.PropertyType) is not { } check)
        {
            return;
        }

        var name = property.Name;
        property.Get = instance =>
        {
            var value = get(instance);
            if (value is not null)
            {
                try
                {
                    check(value);
                }
                catch (NotSupportedException e)
                {
                    throw new NotSupportedException(
                        $"{OrleansJsonContract.Describe(owner)} cannot be stored faithfully: its member '{name}': {e.Message}", e);
                }
            }

            return value;
        };
    }

    /// <summary>Checks a root value (an event, a grain state) declared as <paramref name="declared"/>.</summary>
    public static void EnsureRoot(object? value, Type declared, JsonSerializerOptions options)
    {
        if (value is not null && CheckFor(options, declared) is { } check)
        {
            try
            {
                check(value);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException($"{OrleansJsonContract.Describe(declared)} cannot be stored faithfully: {e.Message}", e);
            }
        }
    }

    private static Action<object>? CheckFor(JsonSerializerOptions options, Type declared)
    {
        var key = (options, declared);
        if (Checks.TryGetValue(key, out var check))
        {
            return check;
        }

        lock (Building)
        {
            if (Checks.TryGetValue(key, out check))
            {
                return check;
            }

            // A type that holds itself (a tree of lists) finds no check for its own level while that check is built.
            if (!Building.Add(key))
            {
                return null;
            }

            try
            {
                check = Build(options, declared);
                Checks[key] = check;
                return check;
            }
            finally
            {
                Building.Remove(key);
            }
        }
    }

    /// <summary>The checks being built (under its own lock; building happens once per declared type).</summary>
    private static readonly HashSet<(JsonSerializerOptions, Type)> Building = [];

    private static Action<object>? Build(JsonSerializerOptions options, Type declared)
    {
        var checkType = MayHoldDerived(options, declared);
        var checkComparer = MayHoldComparer(declared);
        var (elementType, isDictionary) = ElementType(declared);
        var elementCheck = elementType is not null ? CheckFor(options, elementType) : null;

        if (!checkType && !checkComparer && elementCheck is null)
        {
            return null;
        }

        return value =>
        {
            if (checkType && value.GetType() != declared)
            {
                ThrowDerived(value.GetType(), declared, "it holds");
            }

            if (checkComparer)
            {
                CollectionComparers.EnsureDefault(value);
            }

            if (elementCheck is not null)
            {
                var elements = isDictionary ? (value as IDictionary)?.Values ?? Array.Empty<object>() : (IEnumerable)value;
                foreach (var element in elements)
                {
                    if (element is not null)
                    {
                        try
                        {
                            elementCheck(element);
                        }
                        catch (NotSupportedException e)
                        {
                            throw new NotSupportedException($"an element of a {value.GetType().Name}: {e.Message}", e);
                        }
                    }
                }
            }
        };
    }

    /// <summary>The declared element type of a collection (a dictionary's value type), or null.</summary>
    private static (Type? Element, bool IsDictionary) ElementType(Type declared)
    {
        if (declared == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(declared))
        {
            return (null, false);
        }

        if (declared.IsArray)
        {
            return (declared.GetElementType(), false);
        }

        var interfaces = declared.IsInterface ? declared.GetInterfaces().Append(declared) : declared.GetInterfaces();
        foreach (var candidate in interfaces)
        {
            if (candidate.IsGenericType && (candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>)
                || candidate.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            {
                return (candidate.GetGenericArguments()[1], true);
            }
        }

        var enumerable = interfaces.FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return (enumerable?.GetGenericArguments()[0], false);
    }

    private static void ThrowDerived(Type actual, Type declared, string subject)
        => throw new NotSupportedException(
            $"{subject} a {OrleansJsonContract.Describe(actual)} where {OrleansJsonContract.Describe(declared)} is declared; " +
            $"it would be stored, and read back, as a {declared.Name}, losing what the derived type adds. Declare the " +
            $"derived types on {declared.Name} with [JsonDerivedType(typeof(…), \"…\")], or declare the member as the type it holds.");

    /// <summary>
    /// A non-sealed class System.Text.Json stores as itself: a derived instance would lose its own members. (Interfaces
    /// and abstract classes are refused or polymorphic already; a converter decides for itself.)
    /// </summary>
    private static bool MayHoldDerived(JsonSerializerOptions options, Type declared)
        => declared.IsClass && !declared.IsSealed && !declared.IsAbstract && declared != typeof(object)
            && !declared.IsDefined(typeof(JsonDerivedTypeAttribute), inherit: false)
            && !declared.IsDefined(typeof(JsonPolymorphicAttribute), inherit: false)
            && declared.GetCustomAttribute<JsonConverterAttribute>() is null
            && !OrleansJsonContract.HasConverter(options, declared);

    /// <summary>A dictionary or set type that has a comparer, or a declared interface or abstract collection that may hold one.</summary>
    private static bool MayHoldComparer(Type type)
        => typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string) && !type.IsArray
            && (type.IsInterface || type.IsAbstract || CollectionComparers.MayHaveComparer(type));
}
