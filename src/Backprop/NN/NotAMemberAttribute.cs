namespace Backprop.NN;

/// <summary>
/// Marks a field of a <see cref="Module"/> that holds a module or parameter this module does not own, so
/// automatic member discovery leaves it out: a module whose parameters were taken over one by one (a fused
/// layer keeping the layer it replaced for its configuration), a reference back to a parent, a module shared
/// for reading only. On an auto-property, target its backing field: <c>[field: NotAMember]</c>.
/// </summary>
/// <remarks>
/// Without the mark, every module or parameter held in a field (or in an array, list or dictionary field) that is not
/// already a member of the module's tree is registered under the field's name when the module's members
/// are first enumerated (see <see cref="Module.NamedParameters"/>).
/// </remarks>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
public sealed class NotAMemberAttribute : Attribute;
