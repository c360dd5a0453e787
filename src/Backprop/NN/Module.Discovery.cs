using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Backprop.NN;

// Automatic member discovery: modules and parameters held in fields are registered without RegisterModule.
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields)]
public abstract partial class Module
{
    private ModuleMembers? _members;     // this type's discoverable fields, looked up once
    private object?[]? _seen;            // per field: the value it held at the last check
    private object?[]?[]? _seenItems;    // per list field: its elements at the last check
    private string?[]? _discovered;      // per field: the name discovery registered its value under, or null

    /// <summary>
    /// Registers what this module's fields hold and nobody registered: every <see cref="Module"/>, <see cref="Parameter"/>,
    /// and array, list or string-keyed dictionary of either, found by <see cref="ModuleMembers"/>, that is not already a
    /// member of this module's tree, under the field's name ("_fc1" → "fc1", an auto-property → its name); a list becomes
    /// a child with members "0", "1", … (PyTorch's ModuleList and ParameterList), a dictionary one with members named by
    /// its keys (ModuleDict, ParameterDict). Registered ones keep their
    /// names and places. A field assigned another value later is followed: the new value takes the old one's
    /// name and place (PyTorch's <c>setattr</c>), null removes it. Runs at the start of every enumeration of
    /// members; when nothing changed it reads the fields and compares references, allocating nothing (a dictionary
    /// field costs one enumerator).
    /// </summary>
    /// <exception cref="InvalidOperationException">A field's name is taken by another member, a list mixes registered and
    /// unregistered modules, or a field refers to a module that contains this one.</exception>
    private void DiscoverMembers()
    {
        ModuleMembers members = _members ??= ModuleMembers.For(GetType());
        if (members.Count == 0) return;
        object?[]? seen = _seen;
        for (int i = 0; i < members.Count; i++)
        {
            object? value = members.Read(i, this);
            bool unchanged = seen is not null && ReferenceEquals(value, seen[i])
                && (members.Kinds[i] is MemberKind.Module or MemberKind.Parameter || SameItems(members.Kinds[i], value, _seenItems![i]));
            if (unchanged) continue;
            lock (_modules) // one thread updates; the rare first enumeration from two threads at once sees one result
            {
                _seen ??= new object?[members.Count];
                _seenItems ??= new object?[members.Count][];
                _discovered ??= new string?[members.Count];
                seen = _seen;
                if (members.Kinds[i] is MemberKind.Module or MemberKind.Parameter) SyncField(members, i, value);
                else SyncList(members, i, value);
            }
        }
    }

    private void SyncField(ModuleMembers members, int i, object? value)
    {
        if (ReferenceEquals(value, _seen![i])) return;
        string? current = _discovered![i];
        if (current is not null)
        {
            if (value is not null && !IsInTree(value, current))
            {
                CheckNoCycle(members, i, value);
                ReplaceMember(current, value); // PyTorch's setattr on a registered name: same name, same place
                _seen[i] = value;
                return;
            }
            RemoveMember(current);
            _discovered[i] = null;
        }
        if (value is not null && !IsInTree(value, null))
        {
            CheckNoCycle(members, i, value);
            AddMember(members, i, value);
            _discovered[i] = members.Names[i];
        }
        _seen[i] = value;
    }

    private static bool IsDictionary(MemberKind kind) => kind is MemberKind.ModuleDict or MemberKind.ParameterDict;

    private void SyncList(ModuleMembers members, int i, object? value)
    {
        MemberKind kind = members.Kinds[i];
        object?[] items = Items(kind, value);
        if (ReferenceEquals(value, _seen![i]) && _seenItems![i] is { } old && old.AsSpan().SequenceEqual(items, ReferenceComparer.Instance)) return;
        bool dictionary = IsDictionary(kind);
        int step = dictionary ? 2 : 1, first = dictionary ? 1 : 0; // a dictionary's snapshot is key, value, key, value, …
        string? current = _discovered![i];
        int inTree = 0, outside = 0;
        for (int j = first; j < items.Length; j += step)
        {
            if (items[j] is not { } item) continue;
            if (IsInTree(item, current)) inTree++;
            else outside++;
        }
        if (outside > 0 && inTree > 0)
            throw new InvalidOperationException($"{GetType().Name}: the field '{members.Fields[i].Name}' holds {inTree} members registered elsewhere and {outside} that are not; register all of them (RegisterModule / RegisterParameter) or none, or mark the field [NotAMember]");
        if (outside == 0)
        {
            if (current is not null) RemoveMember(current);
            _discovered[i] = null;
        }
        else
        {
            var names = new string[items.Length / step];
            var values = new object?[names.Length];
            for (int j = 0; j < names.Length; j++)
            {
                names[j] = dictionary ? (string)items[2 * j]! : j.ToString(CultureInfo.InvariantCulture);
                values[j] = items[j * step + first];
                if (names[j].Length == 0 || names[j].Contains('.'))
                    throw new InvalidOperationException($"{GetType().Name}: the dictionary field '{members.Fields[i].Name}' has the key '{names[j]}', which cannot name a member (it must be non-empty without '.')");
                if (values[j] is not null) CheckNoCycle(members, i, values[j]!);
            }
            var list = current is null ? null : (MemberList)FindModule(current)!;
            if (list is null)
            {
                list = new MemberList(kind);
                AddMember(members, i, list);
                _discovered[i] = members.Names[i];
            }
            list.SetItems(names, values);
        }
        _seen[i] = value;
        _seenItems![i] = items;
    }

    /// <summary>
    /// Whether the elements of list or dictionary field value <paramref name="value"/> are still <paramref name="items"/>:
    /// allocation-free for arrays and lists; a dictionary costs one enumerator.
    /// </summary>
    private static bool SameItems(MemberKind kind, object? value, object?[]? items)
    {
        if (items is null) return value is null;
        if (value is IList list && !IsDictionary(kind))
        {
            if (list.Count != items.Length) return false;
            for (int j = 0; j < items.Length; j++)
                if (!ReferenceEquals(list[j], items[j])) return false;
            return true;
        }
        if (value is IDictionary dictionary)
        {
            if (dictionary.Count * 2 != items.Length) return false;
            IDictionaryEnumerator e = dictionary.GetEnumerator();
            for (int j = 0; e.MoveNext(); j += 2)
                if (!string.Equals(e.Key as string, items[j] as string, StringComparison.Ordinal) || !ReferenceEquals(e.Value, items[j + 1])) return false;
            return true;
        }
        return value is not null && Items(kind, value).AsSpan().SequenceEqual(items, ReferenceComparer.Instance);
    }

    /// <summary>The elements of a list field value; for a dictionary, key, value, key, value, ….</summary>
    private static object?[] Items(MemberKind kind, object? value)
    {
        if (value is null) return [];
        var items = new List<object?>();
        if (IsDictionary(kind) && value is IDictionary dictionary)
        {
            IDictionaryEnumerator e = dictionary.GetEnumerator();
            while (e.MoveNext())
            {
                items.Add(e.Key);
                items.Add(e.Value);
            }
        }
        else if (IsDictionary(kind))
            throw new InvalidOperationException($"a dictionary of type {value.GetType().Name} is not an IDictionary, so its members cannot be read; register them explicitly, or mark the field [NotAMember]");
        else
            foreach (object? item in (IEnumerable)value) items.Add(item);
        return [.. items];
    }

    /// <summary>Whether <paramref name="value"/> (a module or parameter) is already in this module's tree, not counting the member named <paramref name="except"/>.</summary>
    private bool IsInTree(object value, string? except)
    {
        var visited = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Contains(this, value, except, visited);

        static bool Contains(Module m, object value, string? except, HashSet<Module> visited)
        {
            if (!visited.Add(m)) return false;
            if (ReferenceEquals(m, value)) return true;
            foreach (var (name, p) in m._parameters)
                if (ReferenceEquals(p, value) && name != except) return true;
            foreach (var (name, child) in m._modules) // direct members first: the usual case, found without a walk
                if (ReferenceEquals(child, value) && name != except) return true;
            foreach (var (name, child) in m._modules)
            {
                if (name == except) continue;
                child.DiscoverMembers();
                if (Contains(child, value, null, visited)) return true;
            }
            return false;
        }
    }

    /// <summary>Refuses a module that contains this one: registering it would make the tree a cycle.</summary>
    private void CheckNoCycle(ModuleMembers members, int i, object value)
    {
        if (value is Module m && new ModuleTreeWalk(m).Contains(this))
            throw new InvalidOperationException($"{GetType().Name}: the field '{members.Fields[i].Name}' refers to a {m.GetType().Name} that contains this module (a cycle, such as a reference back to a parent); mark the field [NotAMember]");
    }

    private void AddMember(ModuleMembers members, int i, object value)
    {
        string name = members.Names[i];
        if (HasMemberNamed(name))
            throw new InvalidOperationException($"{GetType().Name}: the field '{members.Fields[i].Name}' holds a {value.GetType().Name} that is not registered, and its name '{name}' is taken by another member; register it explicitly under another name, or mark the field [NotAMember] if this module does not own it");
        if (value is Parameter p) _parameters.Add(new(name, p));
        else _modules.Add(new(name, (Module)value));
    }

    private bool HasMemberNamed(string name)
    {
        foreach (var kv in _parameters) if (kv.Key == name) return true;
        foreach (var kv in _buffers) if (kv.Key == name) return true;
        foreach (var kv in _modules) if (kv.Key == name) return true;
        return false;
    }

    private void ReplaceMember(string name, object value)
    {
        if (value is Parameter p)
        {
            int at = _parameters.FindIndex(kv => kv.Key == name);
            if (at >= 0) { _parameters[at] = new(name, p); return; }
            RemoveMember(name);
            _parameters.Add(new(name, p));
        }
        else
        {
            int at = _modules.FindIndex(kv => kv.Key == name);
            if (at >= 0) { _modules[at] = new(name, (Module)value); return; }
            RemoveMember(name);
            _modules.Add(new(name, (Module)value));
        }
    }

    private void RemoveMember(string name)
    {
        _parameters.RemoveAll(kv => kv.Key == name);
        _modules.RemoveAll(kv => kv.Key == name);
    }

    private Module? FindModule(string name)
    {
        foreach (var (n, m) in _modules) if (n == name) return m;
        return null;
    }

    /// <summary>Members registered by discovery in this module alone (for tests: library modules register everything explicitly).</summary>
    internal int DiscoveredMemberCount
    {
        get
        {
            DiscoverMembers();
            int n = 0;
            if (_discovered is not null) foreach (string? d in _discovered) if (d is not null) n++;
            return n;
        }
    }

    /// <summary>Runs discovery on this module alone (for the allocation test).</summary>
    internal void DiscoverMembersForTest() => DiscoverMembers();

    /// <summary>The modules of a tree without running discovery (cycle checks must not recurse into it).</summary>
    private readonly struct ModuleTreeWalk(Module root)
    {
        public bool Contains(Module target)
        {
            var visited = new HashSet<Module>(ReferenceEqualityComparer.Instance);
            var stack = new Stack<Module>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                Module m = stack.Pop();
                if (ReferenceEquals(m, target)) return true;
                if (!visited.Add(m)) continue;
                foreach (var (_, child) in m._modules) stack.Push(child);
            }
            return false;
        }
    }

    private sealed class ReferenceComparer : IEqualityComparer<object?>
    {
        public static readonly ReferenceComparer Instance = new();
        public new bool Equals(object? x, object? y) => ReferenceEquals(x, y);
        public int GetHashCode(object? obj) => obj is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }

    /// <summary>
    /// The child a list or dictionary field becomes: PyTorch's ModuleList ("0", "1", … modules), ParameterList,
    /// ModuleDict (members named by the keys) or ParameterDict. It has no forward; the module holding it calls its elements.
    /// </summary>
    private sealed class MemberList(MemberKind kind) : Module
    {
        public void SetItems(string[] names, object?[] values)
        {
            _parameters.Clear();
            _modules.Clear();
            bool ofParameters = kind is MemberKind.ParameterList or MemberKind.ParameterDict;
            for (int j = 0; j < names.Length; j++)
            {
                if (ofParameters) _parameters.Add(new(names[j], (Parameter?)values[j]));
                else if (values[j] is Module m) _modules.Add(new(names[j], m));
            }
        }

        public override Tensors.Tensor Forward(Tensors.Tensor input)
            => throw new InvalidOperationException($"{ExtraRepr()}: a {(IsDictionary(kind) ? "dictionary" : "list")} of members has no forward; call its elements from the module that holds it");

        protected override string ExtraRepr() => kind switch
        {
            MemberKind.ParameterList => "ParameterList",
            MemberKind.ModuleDict => "ModuleDict",
            MemberKind.ParameterDict => "ParameterDict",
            _ => "ModuleList",
        };
    }
}
