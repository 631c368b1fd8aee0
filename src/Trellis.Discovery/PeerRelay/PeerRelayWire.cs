using System.Buffers.Binary;

namespace Trellis.Discovery.PeerRelay;

/// <summary>
/// The four bytes that carry a packet through a peer relay. A WireGuard message starts with its type
/// (1-4) and three zero bytes; through a relay those bytes become a marker (0xE0 | type toward the
/// relay, 0xF0 | type from it) and a 24-bit handle the relay granted for the leg, so the WireGuard
/// packet is re-addressed in place and grows by nothing (full-size packets still fit the underlay).
/// A discovery message gets the same four bytes in front (marker 0xE5 or 0xF5). The relay swaps
/// the handle of one leg for the other's and the "toward" marker for "from"; the receiving peer puts
/// WireGuard's type and zeros back. Only ciphertext crosses the relay: WireGuard and disco stay end to end.
/// </summary>
public static class PeerRelayWire
{
    public const int HeaderSize = 4;

    /// <summary>Handles are 24 bits; zero is never granted.</summary>
    public const int MaxHandle = 0xFF_FFFF;

    private const byte TowardRelay = 0xE0;
    private const byte FromRelay = 0xF0;
    private const byte DirectionMask = 0xF0;
    private const byte KindMask = 0x0F;

    /// <summary>The kind nibble of a relayed discovery message (WireGuard's kinds are its types 1-4).</summary>
    private const byte DiscoKind = 5;

    /// <summary>A packet on its way to a relay (this node forwards it if it serves as one).</summary>
    public static bool IsTowardRelay(ReadOnlySpan<byte> packet) => packet.Length > HeaderSize && (packet[0] & DirectionMask) == TowardRelay && IsKind(packet[0]);

    /// <summary>A packet a relay forwarded to this node.</summary>
    public static bool IsFromRelay(ReadOnlySpan<byte> packet) => packet.Length > HeaderSize && (packet[0] & DirectionMask) == FromRelay && IsKind(packet[0]);

    public static bool IsDisco(ReadOnlySpan<byte> packet) => (packet[0] & KindMask) == DiscoKind;

    public static int Handle(ReadOnlySpan<byte> packet) => (packet[1] << 16) | BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);

    /// <summary>Marks a WireGuard message (in place) for the relay, under the handle of our leg.</summary>
    public static void MarkWireGuard(Span<byte> packet, int handle)
    {
        packet[0] = (byte)(TowardRelay | (packet[0] & KindMask));
        WriteHandle(packet, handle);
    }

    /// <summary>Writes the header in front of a discovery message at <paramref name="packet"/>[HeaderSize..].</summary>
    public static void MarkDisco(Span<byte> packet, int handle)
    {
        packet[0] = TowardRelay | DiscoKind;
        WriteHandle(packet, handle);
    }

    /// <summary>The relay's rewrite (in place): the same kind, from the relay, under the other leg's handle.</summary>
    public static void Forward(Span<byte> packet, int handle)
    {
        packet[0] = (byte)(FromRelay | (packet[0] & KindMask));
        WriteHandle(packet, handle);
    }

    /// <summary>Puts back what WireGuard wrote: its type and three zero bytes (sent or received, in place).</summary>
    public static void UnmarkWireGuard(Span<byte> packet)
    {
        packet[0] &= KindMask;
        packet[1] = 0;
        packet[2] = 0;
        packet[3] = 0;
    }

    /// <summary>A WireGuard message we marked on the way out (restored once sent).</summary>
    public static bool IsMarkedWireGuard(ReadOnlySpan<byte> packet) => packet.Length > HeaderSize && (packet[0] & DirectionMask) == TowardRelay && packet[0] is not (TowardRelay | DiscoKind) && IsKind(packet[0]);

    private static bool IsKind(byte b) => (b & KindMask) is >= 1 and <= DiscoKind;

    private static void WriteHandle(Span<byte> packet, int handle)
    {
        packet[1] = (byte)(handle >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)handle);
    }
}
