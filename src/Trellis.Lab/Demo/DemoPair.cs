namespace Trellis.Lab.Demo;

/// <summary>One ordered pair as last measured: the path FROM's daemon uses to TO, and one ping's RTT.</summary>
/// <param name="RttMs">Null when the ping got no answer.</param>
/// <param name="Expected">The path the two networks allow (<see cref="DemoCity.ExpectedPath"/>).</param>
public sealed record DemoPair(string From, string To, string Path, double? RttMs, string Expected)
{
    /// <summary>On the path it will keep, and answering.</summary>
    public bool IsFinal => Path == Expected && RttMs is not null;

    public bool Works => Path != DemoPaths.None && RttMs is not null;
}
