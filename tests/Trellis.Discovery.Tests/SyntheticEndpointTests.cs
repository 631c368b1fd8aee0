using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

public class SyntheticEndpointTests
{
    [Fact]
    public void An_index_round_trips_and_real_endpoints_are_not_synthetic()
    {
        var e = SyntheticEndpoint.For(77);
        Assert.Equal("[fd7a:7472:6c6c:d15c::4d]:1", e.ToString());
        Assert.True(SyntheticEndpoint.TryGetIndex(e, out var i));
        Assert.Equal(77, i);
        Assert.True(Endpoint.TryParse("[fd7a:7472:6c6c:1::4d]:1", out var other));
        Assert.False(SyntheticEndpoint.TryGetIndex(other, out _));
        Assert.True(Endpoint.TryParse("10.0.0.1:1", out var v4));
        Assert.False(SyntheticEndpoint.TryGetIndex(v4, out _));
    }
}
