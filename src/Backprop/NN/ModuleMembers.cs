using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>What a field of a module holds, for automatic member discovery.</summary>
internal enum MemberKind
{
    /// <summary>A <see cref="NN.Module"/>.</summary>
    Module,

    /// <summary>A <see cref="NN.Parameter"/>.</summary>
    Parameter,

    /// <summary>An array or list of modules (registered as a ModuleList child).</summary>
    ModuleList,

    /// <summary>An array or list of parameters (registered as a ParameterList child).</summary>
    ParameterList,

    /// <summary>A dictionary from names to modules (registered as a ModuleDict child).</summary>
    ModuleDict,

    /// <summary>A dictionary from names to parameters (registered as a ParameterDict child).</summary>
    ParameterDict,
}

/// <summary>
/// The fields of one module type that automatic discovery reads, found once per type by reflection: instance
/// fields (auto-property backing fields included) of module, parameter, array/list-of-either or
/// string-keyed dictionary-of-either type, declared
/// in the type or its bases below <see cref="Module"/>, base types first and each in declaration order, minus
/// those marked <see cref="NotAMemberAttribute"/>. Reading them afterwards goes through compiled accessors
/// (plain field loads, no reflection and no allocation) where the runtime compiles code.
/// </summary>
internal sealed class ModuleMembers
{
    private static readonly ConcurrentDictionary<Type, ModuleMembers> Cache = new();

    private readonly Func<object, object?>[] _readers;

    private ModuleMembers(List<(FieldInfo Field, MemberKind Kind)> members, FieldInfo[] tensorFields, FieldInfo[] unownedModuleFields)
    {
        Fields = [.. members.Select(m => m.Field)];
        Kinds = [.. members.Select(m => m.Kind)];
        Names = [.. members.Select(m => MemberName(m.Field.Name))];
        _readers = [.. members.Select(m => Reader(m.Field))];
        TensorFields = tensorFields;
        UnownedModuleFields = unownedModuleFields;
    }

    /// <summary>Number of discoverable fields.</summary>
    public int Count => _readers.Length;

    /// <summary>The discoverable fields.</summary>
    public FieldInfo[] Fields { get; }

    /// <summary>What each field holds.</summary>
    public MemberKind[] Kinds { get; }

    /// <summary>The member name for each field: "_fc1" → "fc1", "&lt;Head&gt;k__BackingField" → "Head".</summary>
    public string[] Names { get; }

    /// <summary>Fields of type <see cref="Tensor"/> (<see cref="Module.To"/> points them at converted buffers).</summary>
    public FieldInfo[] TensorFields { get; }

    /// <summary>Module fields marked <see cref="NotAMemberAttribute"/> (<see cref="Module.To"/> converts those modules too).</summary>
    public FieldInfo[] UnownedModuleFields { get; }

    /// <summary>The value of discoverable field <paramref name="index"/> of <paramref name="module"/>.</summary>
    public object? Read(int index, Module module) => _readers[index](module);

    /// <summary>The members of <paramref name="type"/>, computed once.</summary>
    public static ModuleMembers For([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields)] Type type)
        => Cache.TryGetValue(type, out ModuleMembers? members) ? members : Cache.GetOrAdd(type, Scan(type));

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Module is annotated [DynamicallyAccessedMembers] for public and non-public fields, which the trimmer keeps on every type deriving from it; the base types walked here all derive from Module.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above: every type walked derives from Module.")]
    private static ModuleMembers Scan([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields)] Type type)
    {
        var chain = new List<Type>();
        for (Type? t = type; t is not null && t != typeof(Module); t = t.BaseType) chain.Add(t);
        chain.Reverse(); // base types first, as their constructors run first
        var members = new List<(FieldInfo, MemberKind)>();
        var tensors = new List<FieldInfo>();
        var unowned = new List<FieldInfo>();
        foreach (Type t in chain)
        {
            FieldInfo[] fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            Array.Sort(fields, (a, b) => a.MetadataToken.CompareTo(b.MetadataToken)); // declaration order
            foreach (FieldInfo f in fields)
            {
                Type ft = f.FieldType;
                if (ft == typeof(Tensor))
                {
                    tensors.Add(f);
                    continue;
                }
                MemberKind? kind = KindOf(ft);
                if (kind is null) continue;
                if (f.IsDefined(typeof(NotAMemberAttribute), inherit: false))
                {
                    if (kind == MemberKind.Module) unowned.Add(f);
                    continue;
                }
                members.Add((f, kind.Value));
            }
        }
        return new ModuleMembers(members, [.. tensors], [.. unowned]);
    }

    private static MemberKind? KindOf(Type t)
    {
        if (typeof(Module).IsAssignableFrom(t)) return MemberKind.Module;
        if (t == typeof(Parameter)) return MemberKind.Parameter;
        if (typeof(IEnumerable<Module>).IsAssignableFrom(t)) return MemberKind.ModuleList;
        if (typeof(IEnumerable<Parameter>).IsAssignableFrom(t)) return MemberKind.ParameterList;
        if (t.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(t) && t.GetGenericArguments() is [Type key, Type value] && key == typeof(string))
        {
            if (typeof(Module).IsAssignableFrom(value)) return MemberKind.ModuleDict; // Dictionary<string, Linear>, IReadOnlyDictionary<string, Module>, …
            if (value == typeof(Parameter)) return MemberKind.ParameterDict;
        }
        return null;
    }

    /// <summary>The member name of a field: the property name of a backing field, leading underscores dropped.</summary>
    internal static string MemberName(string field)
    {
        string name = field;
        if (name.StartsWith('<') && name.IndexOf('>') is int close and > 1) name = name[1..close]; // <Name>k__BackingField, <name>P
        string trimmed = name.TrimStart('_');
        return trimmed.Length > 0 ? trimmed : name;
    }

    /// <summary>A getter that is a plain field load once compiled; reflection where the runtime cannot compile code.</summary>
    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "Compile runs only where RuntimeFeature.IsDynamicCodeCompiled; elsewhere the getter is FieldInfo.GetValue.")]
    private static Func<object, object?> Reader(FieldInfo field)
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled) return field.GetValue;
        ParameterExpression target = Expression.Parameter(typeof(object), "module");
        Expression load = Expression.Field(Expression.Convert(target, field.DeclaringType!), field);
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(load, typeof(object)), target).Compile();
    }
}
