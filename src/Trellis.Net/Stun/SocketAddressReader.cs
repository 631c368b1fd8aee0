using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>
/// Reads a received <see cref="SocketAddress"/> (which holds the kernel's sockaddr as it came) into
/// an <see cref="Endpoint"/> without allocating an <see cref="IPEndPoint"/> per datagram. A dual-stack
/// socket reports IPv4 peers as ::ffff:a.b.c.d; Endpoint turns those back into IPv4.
/// </summary>
internal static class SocketAddressReader
{
    public static Endpoint ToEndpoint(SocketAddress address)
    {
        var bytes = address.Buffer.Span;
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when address.Size >= 8:
                return Endpoint.FromAddressBytes(bytes.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
            case AddressFamily.InterNetworkV6 when address.Size >= 28:
                var scope = MemoryMarshal.Read<uint>(bytes[24..]); // sin6_scope_id is in host order
                return Endpoint.FromAddressBytes(bytes.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]), scope);
            default:
                return default;
        }
    }
}
