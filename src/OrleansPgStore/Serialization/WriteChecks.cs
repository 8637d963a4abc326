using System.Collections;
using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace OrleansPgStore.Serialization;

/// <summary>
/// What only the value being written can tell: a dictionary or set with a comparer JSON cannot hold, and an instance
/// of a derived type in a member (or element) declared as its base, which would be stored, and read back, as the base.
/// </summary>
/// <remarks>Installed by <see cref="OrleansJsonContract"/> only on members and collections whose declared type allows
/// either; a member of a sealed type, a value type or a <c>List&lt;int&gt;</c> is written without a check.</remarks>
internal static class WriteChecks
{
    /// <summary>Checks a member's value when it is written, naming owner and member.</summary>
    public static void Add(JsonPropertyInfo property, Type owner)
    {
        var declared = property.PropertyType;
        var checkType = MayHoldDerived(property.Options, declared);
        var checkComparer = MayHoldComparer(declared);
        if (property.Get is not { } get || !(checkType || checkComparer))
        {
            return;
        }

        var name = property.Name;
        property.Get = instance =>
        {
            var value = get(instance);
            if (value is null)
            {
                return value;
            }

            try
            {
                if (checkType)
                {
                    EnsureDeclaredType(value, declared);
                }

                if (checkComparer)
                {
                    CollectionComparers.EnsureDefault(value);
                }
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException(
                    $"{OrleansJsonContract.Describe(owner)} cannot be stored faithfully: its member '{name}': {e.Message}", e);
            }

            return value;
        };
    }

    /// <summary>Checks a collection's comparer, and its elements' types, wherever it is written.</summary>
    public static void Add(JsonTypeInfo info)
    {
        var checkComparer = MayHoldComparer(info.Type);
        var checkElements = info.ElementType is { } element && MayHoldDerived(info.Options, element);
        if (!checkComparer && !checkElements)
        {
            return;
        }

        var declaredElement = info.ElementType!;
        var isDictionary = info.Kind == JsonTypeInfoKind.Dictionary;
        var previous = info.OnSerializing;
        info.OnSerializing = value =>
        {
            previous?.Invoke(value);
            if (checkComparer)
            {
                CollectionComparers.EnsureDefault(value);
            }

            if (checkElements)
            {
                var elements = isDictionary ? (value as IDictionary)?.Values ?? Array.Empty<object>() : (IEnumerable)value;
                foreach (var element in elements)
                {
                    if (element is not null)
                    {
                        EnsureDeclaredType(element, declaredElement);
                    }
                }
            }
        };
    }

    /// <summary>A root value (a grain state) of a type derived from the declared one would read back as the declared type.</summary>
    public static void EnsureRootType(object? value, Type declared, System.Text.Json.JsonSerializerOptions options)
    {
        if (value is not null && value.GetType() != declared && MayHoldDerived(options, declared))
        {
            EnsureDeclaredType(value, declared);
        }
    }

    private static void EnsureDeclaredType(object value, Type declared)
    {
        var actual = value.GetType();
        if (actual != declared && Nullable.GetUnderlyingType(declared) != actual)
        {
            throw new NotSupportedException(
                $"it holds a {OrleansJsonContract.Describe(actual)} where {OrleansJsonContract.Describe(declared)} is declared; " +
                $"it would be stored, and read back, as a {declared.Name}, losing what the derived type adds. Declare the " +
                $"derived types on {declared.Name} with [JsonDerivedType(typeof(…), \"…\")], or declare the member as the type it holds.");
        }
    }

    /// <summary>
    /// A non-sealed class System.Text.Json stores as itself: a derived instance would lose its own members. (Interfaces
    /// and abstract classes are refused or polymorphic already; a converter decides for itself.)
    /// </summary>
    private static bool MayHoldDerived(System.Text.Json.JsonSerializerOptions options, Type declared)
        => declared.IsClass && !declared.IsSealed && !declared.IsAbstract && declared != typeof(object)
            && !declared.IsDefined(typeof(JsonDerivedTypeAttribute), inherit: false)
            && !declared.IsDefined(typeof(JsonPolymorphicAttribute), inherit: false)
            && declared.GetCustomAttribute<JsonConverterAttribute>() is null
            && !OrleansJsonContract.HasConverter(options, declared);

    /// <summary>A declared interface or abstract collection may hold an instance with a comparer.</summary>
    private static bool MayHoldComparer(Type type)
        => typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string) && !type.IsArray
            && (type.IsInterface || type.IsAbstract || CollectionComparers.MayHaveComparer(type));
}
