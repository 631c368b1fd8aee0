namespace Trellis.WireGuard.Tests;

/// <summary>
/// Tests that measure the process's resident memory run alone, after the others: a device test
/// running beside them grows and drops batches of its own and moves the figure they read.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemory
{
    public const string Name = "process memory";
}
