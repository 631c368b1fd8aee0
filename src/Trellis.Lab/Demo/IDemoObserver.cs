namespace Trellis.Lab.Demo;

/// <summary>How a <see cref="DemoRun"/> reports as it goes; the CLI prints these, or nothing with --json.</summary>
public interface IDemoObserver
{
    /// <summary>One line of progress ("london is up as 100.64.0.3").</summary>
    void Progress(string line);

    /// <summary>A fresh measurement of the 12 ordered pairs, <paramref name="elapsed"/> after the devices came up.</summary>
    void Matrix(IReadOnlyList<DemoPair> pairs, TimeSpan elapsed);
}
