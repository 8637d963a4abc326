using System.Collections.Concurrent;
using System.Reflection;
using Orleans;

namespace OrleansPgStore.Serialization;

/// <summary>
/// Maps event types to the names stored in the journal's <c>name</c> column, and back.
/// </summary>
/// <remarks>
/// <para>A type's name is, in order: the name registered in the options' <c>TypeNames</c>; else its first
/// Orleans <c>[Alias("…")]</c>; else its full CLR name (<see cref="Type.FullName"/>). The first two survive a
/// rename of the class; the last does not, so give long-lived events an alias or a registered name. Generic event
/// types need one of the two.</para>
/// <para>Reading accepts every one of a type's names: registered names, all its <c>[Alias]</c>es and its full
/// name, so an alias can be added to a type whose events are already stored under its full name.</para>
/// <para>Thread-safe; lookups are cached.</para>
/// </remarks>
internal sealed class EventTypeNames
{
    private readonly Dictionary<Type, string> _registered;
    private readonly Dictionary<string, Type> _registeredByName;
    private readonly ConcurrentDictionary<Type, string> _names = new();
    private readonly ConcurrentDictionary<(string Name, Type BaseType), Type> _types = new();
    private readonly Lock _scanLock = new();
    private Dictionary<string, List<Type>>? _aliases;
    private int _scannedAssemblies;

    /// <summary>Creates the map with the explicitly registered names.</summary>
    /// <exception cref="ArgumentException">A name is empty, starts with <c>$</c> or is given to two types.</exception>
    public EventTypeNames(IReadOnlyDictionary<Type, string>? registered = null)
    {
        _registered = new Dictionary<Type, string>(registered ?? new Dictionary<Type, string>());
        _registeredByName = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var (type, name) in _registered)
        {
            CheckName(name, type);
            if (!_registeredByName.TryAdd(name, type))
            {
                throw new ArgumentException(
                    $"The event name '{name}' is registered for both {_registeredByName[name].FullName} and {type.FullName}.",
                    nameof(registered));
            }
        }
    }

    /// <summary>The name events of <paramref name="type"/> are stored under.</summary>
    /// <exception cref="ArgumentException">The type is generic and has neither an alias nor a registered name.</exception>
    public string GetName(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return _names.GetOrAdd(type, static (t, self) => self.NameOf(t), this);
    }

    /// <summary>
    /// Finds the type stored under <paramref name="name"/> that is assignable to <paramref name="baseType"/>,
    /// or <c>null</c> when no loaded type has that name.
    /// </summary>
    public Type? Resolve(string name, Type baseType)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(baseType);
        if (_types.TryGetValue((name, baseType), out var cached))
        {
            return cached;
        }

        // Misses are not cached: the type may be in an assembly that loads later.
        var found = Find(name, baseType);
        if (found is not null)
        {
            _types[(name, baseType)] = found;
        }

        return found;
    }

    private string NameOf(Type type)
    {
        if (_registered.TryGetValue(type, out var registered))
        {
            return registered;
        }

        if (type.GetCustomAttributes<AliasAttribute>(inherit: false).FirstOrDefault() is { } alias)
        {
            CheckName(alias.Alias, type);
            return alias.Alias;
        }

        if (type.IsGenericType || type.FullName is null)
        {
            throw new ArgumentException(
                $"The event type {type} is generic; give it an [Alias(\"…\")] or register a name for it in TypeNames, " +
                "since its full name embeds assembly versions and would not stay stable.",
                nameof(type));
        }

        return type.FullName;
    }

    private Type? Find(string name, Type baseType)
    {
        if (_registeredByName.TryGetValue(name, out var registered))
        {
            return baseType.IsAssignableFrom(registered) ? registered : null;
        }

        var aliased = FindAlias(name, baseType);
        if (aliased is not null)
        {
            return aliased;
        }

        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!assembly.IsDynamic && assembly.GetType(name, throwOnError: false) is { } type && baseType.IsAssignableFrom(type))
            {
                return type;
            }
        }

        return null;
    }

    private Type? FindAlias(string name, Type baseType)
    {
        lock (_scanLock)
        {
            var assemblies = AppDomain.CurrentDomain.GetAssemblies();
            // Rescan when assemblies were loaded since the last scan: the type may live in one of them.
            if (_aliases is null || assemblies.Length != _scannedAssemblies)
            {
                _aliases = ScanAliases(assemblies);
                _scannedAssemblies = assemblies.Length;
            }

            return _aliases.TryGetValue(name, out var candidates)
                ? candidates.FirstOrDefault(baseType.IsAssignableFrom)
                : null;
        }
    }

    private static Dictionary<string, List<Type>> ScanAliases(Assembly[] assemblies)
    {
        var aliases = new Dictionary<string, List<Type>>(StringComparer.Ordinal);
        foreach (var assembly in assemblies.Where(a => !a.IsDynamic))
        {
            Type?[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException e)
            {
                types = e.Types;
            }

            foreach (var type in types)
            {
                if (type is null || !type.IsDefined(typeof(AliasAttribute), inherit: false))
                {
                    continue;
                }

                foreach (var alias in type.GetCustomAttributes<AliasAttribute>(inherit: false))
                {
                    if (!aliases.TryGetValue(alias.Alias, out var list))
                    {
                        aliases[alias.Alias] = list = [];
                    }

                    list.Add(type);
                }
            }
        }

        return aliases;
    }

    private static void CheckName(string? name, Type type)
    {
        if (string.IsNullOrEmpty(name) || name.StartsWith('$'))
        {
            throw new ArgumentException(
                $"The event name '{name}' of {type.FullName} is empty or starts with '$', which the journal reserves.",
                nameof(type));
        }
    }
}
