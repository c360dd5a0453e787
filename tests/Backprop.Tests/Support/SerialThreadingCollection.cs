namespace Backprop.Tests.Support;

/// <summary>Tests that change <see cref="Threading.ThreadCount"/> run alone, so no other test changes it under them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialThreadingCollection
{
    public const string Name = "Serial threading";
}
