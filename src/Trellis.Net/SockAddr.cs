using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>Converts between <see cref="Endpoint"/> and the kernel's sockaddr_in6 / sockaddr_in, without allocating.</summary>
internal static unsafe class SockAddr
{
    public static readonly uint In6Size = (uint)sizeof(SockAddrIn6);
    public static readonly uint InSize = (uint)sizeof(SockAddrIn);

    /// <summary>
    /// Reads a received source address. A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d;
    /// Endpoint holds IPv4 in exactly that mapped form, so they come out as IPv4 endpoints.
    /// </summary>
    public static Endpoint Read(SockAddrIn6* address, uint length)
    {
        if (address->Family == Libc.AF_INET6 && length >= In6Size)
        {
            return Endpoint.FromAddressBytes(new ReadOnlySpan<byte>(address->Address, 16), Swap(address->Port), address->ScopeId);
        }

        if (address->Family == Libc.AF_INET && length >= InSize)
        {
            var v4 = (SockAddrIn*)address;
            return Endpoint.FromAddressBytes(new ReadOnlySpan<byte>(v4->Address, 4), Swap(v4->Port));
        }

        return default;
    }

    /// <summary>
    /// Writes a destination for a socket of <paramref name="family"/>; an AF_INET6 socket takes IPv4
    /// destinations as v4-mapped addresses. False when the socket cannot reach that kind of address.
    /// </summary>
    public static bool TryWrite(in Endpoint endpoint, int family, SockAddrIn6* address, out uint length)
    {
        if (endpoint.Port == 0)
        {
            length = 0;
            return false;
        }

        if (family == Libc.AF_INET6)
        {
            address->Family = Libc.AF_INET6;
            address->Port = Swap(endpoint.Port);
            address->FlowInfo = 0;
            endpoint.WriteAddress16(new Span<byte>(address->Address, 16));
            address->ScopeId = endpoint.IsIPv4 ? 0 : endpoint.ScopeId;
            length = In6Size;
            return true;
        }

        if (!endpoint.IsIPv4)
        {
            length = 0;
            return false;
        }

        var v4 = (SockAddrIn*)address;
        v4->Family = Libc.AF_INET;
        v4->Port = Swap(endpoint.Port);
        endpoint.WriteAddress4(new Span<byte>(v4->Address, 4));
        *(ulong*)v4->Zero = 0;
        length = InSize;
        return true;
    }

    public static ushort Swap(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;
}
