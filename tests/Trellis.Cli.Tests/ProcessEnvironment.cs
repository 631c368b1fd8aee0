namespace Trellis.Cli.Tests;

/// <summary>
/// Tests that change the process's environment run alone, after the others: every test running beside
/// them would read the changed variable (a `trellis netcheck` with nothing to measure against asked the
/// daemon TRELLIS_SOCKET named, instead of none, while another class had set it).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    public const string Name = "process environment";
}
