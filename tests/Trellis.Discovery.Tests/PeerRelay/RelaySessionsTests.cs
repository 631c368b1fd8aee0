using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.Discovery.PeerRelay;

namespace Trellis.Discovery.Tests.PeerRelay;

/// <summary>What a peer relay agrees to carry: only pairs that both asked, only from where each asked, within a rate.</summary>
public sealed class RelaySessionsTests
{
    private const long Frequency = 1_000_000;
    private static readonly Key A = X25519.PublicKey(X25519.GeneratePrivateKey());
    private static readonly Key B = X25519.PublicKey(X25519.GeneratePrivateKey());
    private static readonly Key C = X25519.PublicKey(X25519.GeneratePrivateKey());
    private static readonly Endpoint AtA = At("198.51.100.1:1000");
    private static readonly Endpoint AtB = At("198.51.100.2:2000");
    private static readonly Endpoint AtC = At("198.51.100.3:3000");

    private readonly RelaySessions _sessions = new(Frequency, bytesPerSecond: 10_000, burstBytes: 2_000);

    [Fact]
    public void One_side_asking_alone_gets_no_grant_and_nothing_is_forwarded()
    {
        var grants = new List<RelayGrant>();
        _sessions.Request(A, AtA, B, 1, grants);

        Assert.Empty(grants);
        Assert.Equal(0, _sessions.Count);
    }

    [Fact]
    public void Both_sides_asking_get_a_handle_each_and_packets_cross_only_from_where_each_asked()
    {
        var (toA, toB) = Pair(now: 1);

        Assert.True(_sessions.TryForward(toA.Handle, AtA, 100, 2, out var destination, out var handle));
        Assert.Equal(AtB, destination);
        Assert.Equal(toB.Handle, handle);
        Assert.True(_sessions.TryForward(toB.Handle, AtB, 100, 2, out destination, out handle));
        Assert.Equal(AtA, destination);
        Assert.Equal(toA.Handle, handle);

        // A third node replaying A's handle from its own address, or guessing, is refused.
        Assert.False(_sessions.TryForward(toA.Handle, AtC, 100, 2, out _, out _));
        Assert.False(_sessions.TryForward(toA.Handle ^ 0x100000, AtA, 100, 2, out _, out _));
    }

    [Fact]
    public void A_request_waits_for_the_other_side_only_10_s()
    {
        var grants = new List<RelayGrant>();
        _sessions.Request(A, AtA, B, 1, grants);
        _sessions.Request(B, AtB, A, 1 + (11 * Frequency), grants);

        Assert.Empty(grants);
    }

    [Fact]
    public void A_side_over_its_rate_is_dropped_and_a_pair_not_asked_for_again_expires()
    {
        var (toA, _) = Pair(now: 1);
        var forwarded = 0;
        for (var i = 0; i < 100; i++)
        {
            forwarded += _sessions.TryForward(toA.Handle, AtA, 1_000, 2, out _, out _) ? 1 : 0;
        }

        // 2,000 bytes of burst at 10,000 bytes a second: three packets of 1,000 at one instant.
        Assert.Equal(3, forwarded);
        var later = 2 + (40 * Frequency);
        Assert.False(_sessions.TryForward(toA.Handle, AtA, 1_000, later, out _, out _));
    }

    [Fact]
    public void Pairs_with_a_node_that_left_the_map_are_dropped()
    {
        var (toA, _) = Pair(now: 1);
        _sessions.Retain(k => k != B);

        Assert.Equal(0, _sessions.Count);
        Assert.False(_sessions.TryForward(toA.Handle, AtA, 100, 2, out _, out _));
    }

    private static Endpoint At(string text) => Endpoint.TryParse(text, out var e) ? e : throw new ArgumentException(text);

    private (RelayGrant ToA, RelayGrant ToB) Pair(long now)
    {
        var grants = new List<RelayGrant>();
        _sessions.Request(A, AtA, B, now, grants);
        _sessions.Request(B, AtB, A, now, grants);
        Assert.Equal(2, grants.Count);
        Assert.Equal(1, _sessions.Count);
        var toA = grants.Single(g => g.To == A);
        var toB = grants.Single(g => g.To == B);
        Assert.Equal((AtA, B), (toA.Endpoint, toA.Peer));
        Assert.Equal((AtB, A), (toB.Endpoint, toB.Peer));
        Assert.NotEqual(toA.Handle, toB.Handle);
        return (toA, toB);
    }
}
