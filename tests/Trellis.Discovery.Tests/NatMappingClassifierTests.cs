using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

public sealed class NatMappingClassifierTests
{
    private const ushort LocalPort = 41641;

    private static readonly Endpoint ServerA = Parse("198.51.100.2:3478");
    private static readonly Endpoint ServerB = Parse("198.51.100.3:3478");

    [Fact]
    public void No_answer_is_unknown() => Assert.Equal(NatMapping.Unknown, NatMappingClassifier.Classify([], LocalPort));

    [Fact]
    public void Two_servers_seeing_one_endpoint_is_stable_even_when_the_port_moved() =>
        Assert.Equal(NatMapping.Stable, NatMappingClassifier.Classify([(ServerA, Parse("203.0.113.5:6000")), (ServerB, Parse("203.0.113.5:6000"))], LocalPort));

    [Fact]
    public void Two_servers_seeing_different_endpoints_is_varying() =>
        Assert.Equal(NatMapping.Varies, NatMappingClassifier.Classify([(ServerA, Parse("203.0.113.5:6000")), (ServerB, Parse("203.0.113.5:6001"))], LocalPort));

    [Fact]
    public void One_server_and_our_own_port_kept_is_stable() =>
        Assert.Equal(NatMapping.Stable, NatMappingClassifier.Classify([(ServerA, Parse($"203.0.113.5:{LocalPort}"))], LocalPort));

    [Fact]
    public void One_server_and_our_port_moved_is_taken_as_varying() =>
        Assert.Equal(NatMapping.Varies, NatMappingClassifier.Classify([(ServerA, Parse("203.0.113.5:51394"))], LocalPort));

    private static Endpoint Parse(string text) => Endpoint.TryParse(text, out var e) ? e : throw new ArgumentException(text);
}
