using System.Text.Json;
using Trellis.Relay.Protocol;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// The relay handshake's three payloads: the ServerKey a client reads, the sealed ClientInfo the
/// server opens, the sealed ServerInfo the client opens (each false, never a throw, when malformed
/// or forged), and the same bytes as the JSON inside, which the fuzzer cannot reach through the
/// AEAD (a bad one is a <see cref="JsonException"/>, as <see cref="HandshakeSeal"/> expects).
/// </summary>
public static class RelayHandshakeTarget
{
    public static bool Run(ReadOnlySpan<byte> input)
    {
        var accepted = FrameCodec.TryParseServerKey(input, out _, out _)
                       | HandshakeSeal.TryOpenClientInfo(FuzzKeys.Local, FuzzKeys.LocalPublic, FuzzKeys.Challenge, input, out _, out _)
                       | HandshakeSeal.TryOpenServerInfo(FuzzKeys.Remote, FuzzKeys.LocalPublic, FuzzKeys.Challenge, input, out _);
        try
        {
            accepted |= JsonSerializer.Deserialize(input, RelayJsonContext.Default.RelayClientInfo) is not null;
        }
        catch (JsonException)
        {
        }

        try
        {
            accepted |= JsonSerializer.Deserialize(input, RelayJsonContext.Default.RelayServerInfo) is not null;
        }
        catch (JsonException)
        {
        }

        return accepted;
    }
}
