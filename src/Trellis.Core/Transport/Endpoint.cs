using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Core.Transport;

/// <summary>
/// A UDP underlay address (IPv4 held as IPv4-mapped IPv6) and port, as a value so the data path can
/// record and compare a peer's endpoint per packet without allocating an <see cref="IPEndPoint"/>.
/// </summary>
public readonly struct Endpoint : IEquatable<Endpoint>
{
    private static readonly UInt128 V4MappedPrefix = (UInt128)0xffff << 32;
    private static readonly UInt128 V4MappedMask = ~(UInt128)uint.MaxValue;

    /// <summary>The 16-byte address, big-endian (network order) as a number.</summary>
    public UInt128 Address { get; }

    public ushort Port { get; }

    /// <summary>IPv6 scope (interface index) for link-local addresses; zero otherwise.</summary>
    public uint ScopeId { get; }

    public Endpoint(UInt128 address, ushort port, uint scopeId = 0)
    {
        Address = address;
        Port = port;
        ScopeId = scopeId;
    }

    public bool IsIPv4 => (Address & V4MappedMask) == V4MappedPrefix;

    /// <summary>Builds from a 4-byte IPv4 or 16-byte IPv6 address in network order.</summary>
    public static Endpoint FromAddressBytes(ReadOnlySpan<byte> address, ushort port, uint scopeId = 0)
    {
        return address.Length switch
        {
            4 => new Endpoint(V4MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(address), port),
            16 => Unmap(new Endpoint(BinaryPrimitives.ReadUInt128BigEndian(address), port, scopeId)),
            _ => throw new ArgumentException("an IP address is 4 or 16 bytes", nameof(address)),
        };
    }

    private static Endpoint Unmap(Endpoint e) => e.IsIPv4 ? new Endpoint(e.Address, e.Port) : e;

    public static Endpoint FromIPEndPoint(IPEndPoint ep)
    {
        Span<byte> b = stackalloc byte[16];
        ep.Address.TryWriteBytes(b, out var n);
        return FromAddressBytes(b[..n], (ushort)ep.Port, ep.AddressFamily == AddressFamily.InterNetworkV6 ? (uint)ep.Address.ScopeId : 0);
    }

    /// <summary>Writes the IPv4-mapped or IPv6 address, 16 bytes.</summary>
    public void WriteAddress16(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Address);

    /// <summary>Writes the IPv4 address (4 bytes); valid only when <see cref="IsIPv4"/>.</summary>
    public void WriteAddress4(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Address);

    public IPAddress ToIPAddress()
    {
        if (IsIPv4)
        {
            Span<byte> v4 = stackalloc byte[4];
            WriteAddress4(v4);
            return new IPAddress(v4);
        }

        Span<byte> v6 = stackalloc byte[16];
        WriteAddress16(v6);
        return new IPAddress(v6, ScopeId);
    }

    public IPEndPoint ToIPEndPoint() => new(ToIPAddress(), Port);

    /// <summary>Parses <c>1.2.3.4:5</c> or <c>[2001:db8::1]:5</c> (IP literals only, no names).</summary>
    public static bool TryParse(string text, out Endpoint endpoint)
    {
        endpoint = default;
        if (!IPEndPoint.TryParse(text, out var ep) || ep.Port == 0)
        {
            return false;
        }

        // IPEndPoint.TryParse accepts a bare IPv6 address with a trailing group as a "port": require brackets.
        if (ep.AddressFamily == AddressFamily.InterNetworkV6 && !text.StartsWith('['))
        {
            return false;
        }

        endpoint = FromIPEndPoint(ep);
        return true;
    }

    public override string ToString() => ToIPEndPoint().ToString();

    public bool Equals(Endpoint other) => Address == other.Address && Port == other.Port && ScopeId == other.ScopeId;

    public override bool Equals(object? obj) => obj is Endpoint other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Address, Port, ScopeId);

    public static bool operator ==(Endpoint left, Endpoint right) => left.Equals(right);

    public static bool operator !=(Endpoint left, Endpoint right) => !left.Equals(right);
}
