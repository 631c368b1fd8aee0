namespace Trellis.Core.Tests;

public class DurationsTests
{
    [Theory]
    [InlineData(874.8864, "875 ms")]
    [InlineData(1500, "1.5 s")]
    [InlineData(45_000, "45 s")]
    [InlineData(300_000, "5 min")]
    [InlineData(86_400_000, "24 h")]
    [InlineData(15_552_000_000, "180 d")]
    public void A_duration_reads_as_a_number_and_a_unit(double milliseconds, string expected) =>
        Assert.Equal(expected, Durations.Describe(TimeSpan.FromMilliseconds(milliseconds)));
}
