using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>A copied handshake message waiting for the handshake thread (slots are preallocated and reused).</summary>
internal sealed class HandshakeWork
{
    public byte[] Data { get; } = new byte[MessageLayout.InitiationSize];

    public int Length { get; set; }

    public Endpoint Source { get; set; }

    /// <summary>Our address the message arrived on.</summary>
    public LocalAddress Local { get; set; }

    public ReadOnlySpan<byte> Message => Data.AsSpan(0, Length);
}
