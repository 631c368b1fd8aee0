using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Tests;

public class HandshakeSealTests
{
    private readonly Key _serverPrivate = X25519.GeneratePrivateKey();
    private readonly Key _clientPrivate = X25519.GeneratePrivateKey();
    private readonly byte[] _challenge = new byte[RelayProtocol.ChallengeSize];

    public HandshakeSealTests() => Random.Shared.NextBytes(_challenge);

    private Key ServerPublic => X25519.PublicKey(_serverPrivate);

    private byte[] ClientInfoPayload() =>
        HandshakeSeal.SealClientInfo(_clientPrivate, ServerPublic, _challenge, new RelayClientInfo { CanAckPings = true })[RelayProtocol.HeaderSize..];

    [Fact]
    public void The_server_learns_the_node_key_the_client_sealed_with()
    {
        Assert.True(HandshakeSeal.TryOpenClientInfo(_serverPrivate, ServerPublic, _challenge, ClientInfoPayload(), out var key, out var info));
        Assert.Equal(X25519.PublicKey(_clientPrivate), key);
        Assert.True(info!.CanAckPings);
    }

    [Fact]
    public void Claiming_another_node_key_without_its_private_key_fails()
    {
        var payload = ClientInfoPayload();
        X25519.PublicKey(X25519.GeneratePrivateKey()).CopyTo(payload); // someone else's public key in front
        Assert.False(HandshakeSeal.TryOpenClientInfo(_serverPrivate, ServerPublic, _challenge, payload, out _, out _));
    }

    [Fact]
    public void A_client_info_recorded_on_one_connection_fails_on_another()
    {
        var otherChallenge = (byte[])_challenge.Clone();
        otherChallenge[0] ^= 1;
        Assert.False(HandshakeSeal.TryOpenClientInfo(_serverPrivate, ServerPublic, otherChallenge, ClientInfoPayload(), out _, out _));
    }

    [Fact]
    public void Any_flipped_bit_fails()
    {
        var payload = ClientInfoPayload();
        for (var i = Key.Size; i < payload.Length; i++)
        {
            payload[i] ^= 0x40;
            Assert.False(HandshakeSeal.TryOpenClientInfo(_serverPrivate, ServerPublic, _challenge, payload, out _, out _));
            payload[i] ^= 0x40;
        }
    }

    [Fact]
    public void A_client_info_for_another_server_fails()
    {
        var other = X25519.GeneratePrivateKey();
        Assert.False(HandshakeSeal.TryOpenClientInfo(other, X25519.PublicKey(other), _challenge, ClientInfoPayload(), out _, out _));
    }

    [Fact]
    public void Server_info_opens_only_for_the_client_it_was_sealed_to()
    {
        var frame = HandshakeSeal.SealServerInfo(_serverPrivate, ServerPublic, X25519.PublicKey(_clientPrivate), _challenge, new RelayServerInfo { Error = "no" });
        var payload = frame[RelayProtocol.HeaderSize..];
        Assert.True(HandshakeSeal.TryOpenServerInfo(_clientPrivate, ServerPublic, _challenge, payload, out var info));
        Assert.Equal("no", info!.Error);
        Assert.False(HandshakeSeal.TryOpenServerInfo(X25519.GeneratePrivateKey(), ServerPublic, _challenge, payload, out _));
    }

    [Fact]
    public void A_low_order_client_key_is_refused()
    {
        var payload = ClientInfoPayload();
        payload.AsSpan(0, Key.Size).Clear(); // the all-zero point
        Assert.False(HandshakeSeal.TryOpenClientInfo(_serverPrivate, ServerPublic, _challenge, payload, out _, out _));
    }
}
