using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orleans;

namespace OrleansPgStore.Serialization;

/// <summary>
/// A System.Text.Json contract modifier that stores every member Orleans' serializer would persist, and refuses a type
/// it cannot store faithfully. Runs once per type and options, when System.Text.Json first needs the type's contract.
/// </summary>
/// <remarks>
/// <para><b>Orleans types</b> (<c>[GenerateSerializer]</c>, on each level of the hierarchy that has it): every field and
/// property with <c>[Id]</c>, public or not, read-only fields, get-only and private-setter properties included; record
/// primary-constructor parameters; all public properties under <c>GenerateFieldIds.PublicProperties</c>. They are added
/// to what System.Text.Json stores by default (public properties), never taking anything away. A type with no
/// constructor System.Text.Json can call is created like Orleans creates it, without running a constructor.</para>
/// <para><b>Other types</b> keep System.Text.Json's contract, plus public fields (a ValueTuple's items, a Vector3's
/// X, Y, Z), public properties whose setter is private and get-only auto-properties (all would otherwise be lost).</para>
/// <para><b>Refused</b> (<see cref="NotSupportedException"/> naming type and member): a member typed <c>object</c>, or an
/// interface or abstract class that is not a collection and declares no <c>[JsonDerivedType]</c> (it would read back as
/// something else, or not at all); a collection System.Text.Json cannot read back; a multi-dimensional array; a type
/// with state but nothing that reads back; a persisted member that cannot be set; two members stored under one name; a
/// type that cannot be created on read. On an Orleans type, such a member without <c>[Id]</c> (which Orleans would not
/// persist either) is left out instead. What only the instance can tell is checked on write (<see cref="WriteChecks"/>).</para>
/// <para>The rule and the type table: docs/json-contract.md.</para>
/// </remarks>
internal static class OrleansJsonContract
{
    private const BindingFlags Declared = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>The modifier: add it to a resolver with <c>WithAddedModifier</c>.</summary>
    public static void Modify(JsonTypeInfo info)
    {
        // A nullable struct (MyStruct?, (int, int)?) is written and read through its underlying type's own contract,
        // which this modifier sees separately; Nullable's own fields (hasValue, value) are not state to store.
        if (Nullable.GetUnderlyingType(info.Type) is not null)
        {
            return;
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                var orleansMembers = MapMembers(info);
                foreach (var property in info.Properties.ToList())
                {
                    // What Orleans would not persist either is left out rather than refused.
                    if (orleansMembers.Count > 0 && property.AssociatedParameter is null
                        && !orleansMembers.Any(m => property.AttributeProvider is MemberInfo member && Same(m, member))
                        && !IsFaithful(info.Options, property.PropertyType))
                    {
                        info.Properties.Remove(property);
                        continue;
                    }

                    CheckFaithful(info.Options, property.PropertyType, info.Type, property.Name);
                    WriteChecks.Add(property, info.Type);
                }

                EnsureStateIsStored(info, orleansMembers.Count > 0);
                EnsureCreatable(info);
                break;
            case JsonTypeInfoKind.Enumerable:
                EnsureReadable(info.Options, info.Type, info.Type, "(the collection itself)");
                CheckFaithful(info.Options, info.ElementType!, info.Type, "element");
                break;
            case JsonTypeInfoKind.Dictionary:
                EnsureReadable(info.Options, info.Type, info.Type, "(the collection itself)");
                CheckFaithful(info.Options, info.KeyType!, info.Type, "key");
                CheckFaithful(info.Options, info.ElementType!, info.Type, "value");
                break;
        }
    }

    /// <summary>True for a type Orleans generates a serializer for.</summary>
    public static bool IsOrleansType(Type type) => type.IsDefined(typeof(GenerateSerializerAttribute), inherit: false);

    private static bool HasOrleansLevel(Type type)
    {
        for (var level = type; level is not null && level != typeof(object); level = level.BaseType)
        {
            if (IsOrleansType(level))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Adds the members System.Text.Json would miss; returns those Orleans persists.</summary>
    private static List<MemberInfo> MapMembers(JsonTypeInfo info)
    {
        var orleans = new List<MemberInfo>();
        for (var level = info.Type; level is not null && level != typeof(object); level = level.BaseType)
        {
            if (IsOrleansType(level))
            {
                orleans.AddRange(OrleansMembers(level));
            }
        }

        var persisted = new List<MemberInfo>(orleans);
        if (orleans.Count == 0 && !HasOrleansLevel(info.Type))
        {
            // A public field is state (a ValueTuple's items, a Vector3's X, Y, Z): stored like a public property.
            foreach (var field in info.Type.GetFields(BindingFlags.Instance | BindingFlags.Public))
            {
                persisted.Add(field);
            }
        }

        foreach (var property in info.Type.GetProperties(BindingFlags.Instance | BindingFlags.Public))
        {
            // Outside Orleans' rules too: a public property System.Text.Json writes but could not set loses its value.
            if (property.GetIndexParameters().Length == 0 && property.GetMethod is { IsPublic: true }
                && (property.SetMethod is { IsPublic: false } || (property.SetMethod is null && BackingField(property) is not null))
                && !persisted.Any(m => Same(m, property)))
            {
                persisted.Add(property);
            }
        }

        foreach (var member in persisted)
        {
            if (member.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always })
            {
                continue;
            }

            Include(info, member);
        }

        return orleans;
    }

    /// <summary>The members Orleans' code generator persists for one level of a type's hierarchy.</summary>
    private static IEnumerable<MemberInfo> OrleansMembers(Type level)
    {
        var attribute = level.GetCustomAttribute<GenerateSerializerAttribute>()!;
        var members = new List<MemberInfo>();
        foreach (var member in level.GetMembers(Declared))
        {
            if (member is FieldInfo or PropertyInfo && member.IsDefined(typeof(IdAttribute), inherit: false))
            {
                members.Add(member);
            }
        }

        var isRecord = level.GetMethod("<Clone>$", BindingFlags.Instance | BindingFlags.Public) is not null;
        if (isRecord || attribute.IncludePrimaryConstructorParameters)
        {
            foreach (var property in PrimaryConstructorProperties(level))
            {
                if (!members.Any(m => Same(m, property)))
                {
                    members.Add(property);
                }
            }
        }

        if (attribute.GenerateFieldIds == GenerateFieldIds.PublicProperties)
        {
            foreach (var property in level.GetProperties(Declared))
            {
                if (property.GetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0
                    && !members.Any(m => Same(m, property)))
                {
                    members.Add(property);
                }
            }
        }

        return members;
    }

    /// <summary>Properties named like the parameters of the type's primary constructor (a record's positional members).</summary>
    private static IEnumerable<PropertyInfo> PrimaryConstructorProperties(Type level)
    {
        foreach (var constructor in level.GetConstructors(Declared))
        {
            var parameters = constructor.GetParameters();
            if (parameters.Length == 0 || (parameters.Length == 1 && parameters[0].ParameterType == level))
            {
                continue;
            }

            var properties = parameters
                .Select(p => level.GetProperty(p.Name!, Declared) is { } match && match.PropertyType == p.ParameterType ? match : null)
                .ToList();
            if (properties.All(p => p is not null))
            {
                return properties!;
            }
        }

        return [];
    }

    private static void Include(JsonTypeInfo info, MemberInfo member)
    {
        var name = member.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
            ?? info.Options.PropertyNamingPolicy?.ConvertName(member.Name)
            ?? member.Name;
        var existing = info.Properties.FirstOrDefault(p => p.AttributeProvider is MemberInfo m && Same(m, member));
        if (existing is not null)
        {
            if (existing.Set is null && existing.AssociatedParameter is null)
            {
                existing.Set = Setter(info.Type, member);
            }

            return;
        }

        var clash = info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
        if (clash is not null)
        {
            // A computed property System.Text.Json picked up under the persisted member's name gives way to it.
            if (clash.Set is not null || clash.AssociatedParameter is not null)
            {
                throw new NotSupportedException(
                    $"{Describe(info.Type)} cannot be stored faithfully: its members '{member.Name}' and " +
                    $"'{(clash.AttributeProvider as MemberInfo)?.Name}' would both be stored as '{name}'. " +
                    "Give one a [JsonPropertyName].");
            }

            info.Properties.Remove(clash);
        }

        var type = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
        var property = info.CreateJsonPropertyInfo(type, name);
        property.AttributeProvider = member;
        property.Get = Getter(info.Type, member);
        property.Set = Setter(info.Type, member);
        if (info.Options.RespectNullableAnnotations && !type.IsValueType)
        {
            // What System.Text.Json infers for the members it finds itself: a non-nullable reference is never null.
            var nullability = member is FieldInfo field ? Nullability.Create(field) : Nullability.Create((PropertyInfo)member);
            property.IsGetNullable = nullability.ReadState != NullabilityState.NotNull;
            property.IsSetNullable = nullability.WriteState != NullabilityState.NotNull;
        }

        info.Properties.Add(property);
    }

    private static NullabilityInfoContext Nullability => new();

    private static Func<object, object?> Getter(Type owner, MemberInfo member) => member switch
    {
        FieldInfo field => field.GetValue,
        PropertyInfo { GetMethod: not null } property => property.GetValue,
        _ => throw new NotSupportedException(
            $"{Describe(owner)} cannot be stored faithfully: its persisted property '{member.Name}' has no getter."),
    };

    private static Action<object, object?> Setter(Type owner, MemberInfo member) => member switch
    {
        FieldInfo { IsStatic: false } field => field.SetValue,
        PropertyInfo { SetMethod: not null } property => property.SetValue,
        PropertyInfo property when BackingField(property) is { } backing => backing.SetValue,
        _ => throw new NotSupportedException(
            $"{Describe(owner)} cannot be stored faithfully: its persisted member '{member.Name}' cannot be set when " +
            "read back (a computed property). Persist the field it is computed from instead."),
    };

    private static FieldInfo? BackingField(PropertyInfo property)
        => property.DeclaringType?.GetField($"<{property.Name}>k__BackingField", Declared);

    private static bool Same(MemberInfo a, MemberInfo b) => a.MetadataToken == b.MetadataToken && a.Module == b.Module;

    private static bool IsFaithful(JsonSerializerOptions options, Type type)
    {
        try
        {
            CheckFaithful(options, type, typeof(object), "");
            return true;
        }
        catch (NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Refuses member types whose value would come back as a different type (or not at all).</summary>
    private static void CheckFaithful(JsonSerializerOptions options, Type type, Type owner, string member)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(object))
        {
            throw new NotSupportedException(
                $"{Describe(owner)} cannot be stored faithfully: '{member}' is typed object, which reads back as a " +
                "JsonElement instead of the value written. Give it a concrete type.");
        }

        if (underlying.IsArray && !underlying.IsSZArray)
        {
            throw new NotSupportedException(
                $"{Describe(owner)} cannot be stored faithfully: '{member}' is typed {Describe(underlying)}, a " +
                "multi-dimensional array, which JSON cannot store. Use a jagged array (T[][]) or a list of lists.");
        }

        EnsureReadable(options, underlying, owner, member);
        if (DictionaryKeyType(underlying) is { } key && !CanBePropertyName(options, key))
        {
            throw new NotSupportedException(
                $"{Describe(owner)} cannot be stored faithfully: '{member}' is typed {Describe(underlying)}, whose keys " +
                $"({Describe(key)}) System.Text.Json cannot write as JSON property names. Use a key of a simple type (a " +
                "string, number, enum, Guid, date or time), or add a JsonConverter for the key type that overrides " +
                "ReadAsPropertyName and WriteAsPropertyName.");
        }

        if ((underlying.IsInterface || underlying.IsAbstract)
            && !typeof(IEnumerable).IsAssignableFrom(underlying)
            && !underlying.IsDefined(typeof(JsonDerivedTypeAttribute), inherit: false)
            && underlying.GetCustomAttribute<JsonConverterAttribute>() is null
            && !HasConverter(options, underlying))
        {
            throw new NotSupportedException(
                $"{Describe(owner)} cannot be stored faithfully: '{member}' is typed {Describe(underlying)}, an " +
                "interface or abstract class without [JsonDerivedType] attributes, so its value would not read back. " +
                "Give it a concrete type or declare its derived types with [JsonDerivedType].");
        }
    }

    /// <summary>The key type of a dictionary type, or null.</summary>
    internal static Type? DictionaryKeyType(Type type)
        => (type.IsInterface ? type.GetInterfaces().Append(type) : type.GetInterfaces())
            .FirstOrDefault(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>)
                || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            ?.GetGenericArguments()[0];

    /// <summary>
    /// The key types System.Text.Json writes as property names (its documented list), or one a converter in the options
    /// handles. Anything else (a tuple, a record) fails only when a dictionary first holds a key: refused up front.
    /// </summary>
    private static bool CanBePropertyName(JsonSerializerOptions options, Type key)
        => key.IsPrimitive || key.IsEnum || key == typeof(object) || PropertyNameTypes.Contains(key) || HasConverter(options, key);

    private static readonly HashSet<Type> PropertyNameTypes =
    [
        typeof(string), typeof(decimal), typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(DateOnly),
        typeof(TimeOnly), typeof(TimeSpan), typeof(Half), typeof(Int128), typeof(UInt128), typeof(Uri), typeof(Version),
    ];

    /// <summary>
    /// Refuses a collection System.Text.Json can write but not read back (<c>ReadOnlyCollection</c>, <c>FrozenSet</c>,
    /// <c>IReadOnlySet</c>, <c>BitArray</c>, ...): it would be written, and then fail every read. Probed once per type by
    /// reading an empty one with plain options (its elements play no part).
    /// </summary>
    private static void EnsureReadable(JsonSerializerOptions options, Type type, Type owner, string member)
    {
        if (!typeof(IEnumerable).IsAssignableFrom(type) || type == typeof(string) || HasConverter(options, type)
            || ReadProbes.GetOrAdd(type, Probe) is not { } reason)
        {
            return;
        }

        throw new NotSupportedException(
            $"{Describe(owner)} cannot be stored faithfully: '{member}' is typed {Describe(type)}, which System.Text.Json " +
            $"can write but not read back ({reason}). Use a collection it can create, such as List<T>, HashSet<T>, " +
            "Dictionary<TKey, TValue> or an immutable collection.");
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, string?> ReadProbes = new();

    private static readonly JsonSerializerOptions PlainOptions = new();

    private static string? Probe(Type type)
    {
        foreach (var empty in new[] { "[]", "{}" })
        {
            try
            {
                JsonSerializer.Deserialize(empty, type, PlainOptions);
                return null;
            }
            catch (NotSupportedException e)
            {
                return e.Message;
            }
            catch (JsonException)
            {
                // Not this shape (or not from an empty one, like byte[] from base64): try the other.
            }
        }

        return null;
    }

    /// <summary>True when a converter (a built-in one such as JsonNode's, or one the options add) handles the type.</summary>
    internal static bool HasConverter(JsonSerializerOptions options, Type type)
        => options.Converters.Any(c => c.CanConvert(type)) || typeof(System.Text.Json.Nodes.JsonNode).IsAssignableFrom(type);

    /// <summary>
    /// Refuses a type that has state but nothing System.Text.Json would read back: it would be stored as <c>{}</c> or
    /// as computed properties, and read back empty (a <c>BigInteger</c> without a converter reads back 0). A .NET type
    /// (whose fields are not ours to judge by convention) must also hold all its state in what is stored: each of its
    /// fields public, behind a stored auto-property, or named like a settable property or constructor parameter
    /// (<c>x</c> behind <c>X</c>, <c>m_Item1</c> behind <c>Tuple.Item1</c>); a <c>StringBuilder</c> or a <c>Lazy</c>
    /// would read back without its content. Orleans types are exempt: what they persist is what Orleans persists.
    /// </summary>
    private static void EnsureStateIsStored(JsonTypeInfo info, bool isOrleansType)
    {
        if (isOrleansType || HasOrleansLevel(info.Type))
        {
            return;
        }

        var fields = new List<FieldInfo>();
        for (var level = info.Type; level is not null && level != typeof(object); level = level.BaseType)
        {
            fields.AddRange(level.GetFields(Declared).Where(f => !f.IsStatic));
        }

        var parameters = info.ConstructorAttributeProvider is ConstructorInfo constructor ? constructor.GetParameters() : [];
        var readsBack = info.Properties.Where(p => p.Set is not null || p.AssociatedParameter is not null).ToList();
        List<FieldInfo> lost;
        if (readsBack.Count > 0 || parameters.Length > 0)
        {
            if (!IsFrameworkType(info.Type))
            {
                return;
            }

            // Names that read back: stored members and constructor parameters, compared without case or m_/_ prefixes.
            var names = readsBack.Select(p => (p.AttributeProvider as MemberInfo)?.Name ?? p.Name)
                .Concat(parameters.Select(p => p.Name ?? ""))
                .Select(Bare)
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            lost = fields.Where(f => !f.IsPublic && !names.Contains(Bare(f.Name))).ToList();
        }
        else
        {
            lost = fields;
        }

        if (lost.Count > 0)
        {
            throw new NotSupportedException(
                $"{Describe(info.Type)} cannot be stored faithfully: its state (fields {string.Join(", ", lost.Take(5).Select(f => $"'{f.Name}'"))}) " +
                "is not in any member System.Text.Json reads back, so it would read back without it. Add a JsonConverter for " +
                "it to JsonSerializerOptions.Converters, or store its parts.");
        }
    }

    /// <summary>A field's name without the compiler's and conventional decorations: <c>&lt;X&gt;k__BackingField</c>,
    /// <c>m_X</c> and <c>_x</c> all become <c>X</c>.</summary>
    private static string Bare(string name)
    {
        if (name.StartsWith('<') && name.IndexOf('>', StringComparison.Ordinal) is > 1 and var end)
        {
            return name[1..end];
        }

        return name.StartsWith("m_", StringComparison.Ordinal) ? name[2..] : name.TrimStart('_');
    }

    /// <summary>A type of the .NET shared framework (where System.Object lives).</summary>
    private static bool IsFrameworkType(Type type)
        => !string.IsNullOrEmpty(type.Assembly.Location)
            && string.Equals(Path.GetDirectoryName(type.Assembly.Location), FrameworkDirectory, StringComparison.Ordinal);

    private static readonly string? FrameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);

    private static void EnsureCreatable(JsonTypeInfo info)
    {
        var type = info.Type;
        if (info.ConstructorAttributeProvider is ConstructorInfo chosen && UnboundParameter(info, chosen) is { } unbound)
        {
            // System.Text.Json would write this type and then fail every read: the constructor it picked has a parameter
            // no stored member feeds. Orleans never calls it; create an Orleans type the way Orleans does.
            if (IsOrleansType(type) && !type.IsValueType)
            {
                info.CreateObject = OrleansCreation(type);
                return;
            }

            throw new NotSupportedException(
                $"{Describe(type)} cannot be stored faithfully: its constructor's parameter '{unbound.Name}' matches no " +
                "stored member (by name and type), so System.Text.Json could not read it back. Name the parameter like " +
                "the member it sets, or mark another constructor with [JsonConstructor].");
        }

        if (info.CreateObject is not null || info.ConstructorAttributeProvider is not null || type.IsValueType || type.IsAbstract)
        {
            return;
        }

        if (!IsOrleansType(type))
        {
            throw new NotSupportedException(
                $"{Describe(type)} cannot be stored faithfully: it has no constructor System.Text.Json can use to read it " +
                "back. Add a public parameterless constructor or mark one with [JsonConstructor].");
        }

        info.CreateObject = OrleansCreation(type);
    }

    /// <summary>Like Orleans: the default constructor if there is one, else an instance no constructor ran on.</summary>
    private static Func<object> OrleansCreation(Type type)
    {
        var constructor = type.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes);
        return constructor is not null
            ? () => constructor.Invoke(null)
            : () => RuntimeHelpers.GetUninitializedObject(type);
    }

    /// <summary>A parameter of the deserialization constructor bound to no stored property, or null.</summary>
    private static ParameterInfo? UnboundParameter(JsonTypeInfo info, ConstructorInfo constructor)
        => constructor.GetParameters().FirstOrDefault(parameter => !info.Properties.Any(property =>
            property.AssociatedParameter is { } bound && bound.Position == parameter.Position));

    internal static string Describe(Type type) => type.FullName ?? type.Name;
}
