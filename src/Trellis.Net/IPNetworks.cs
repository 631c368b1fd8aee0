using System.Net;

namespace Trellis.Net;

public static class IPNetworks
{
    /// <summary>
    /// The network of <paramref name="address"/> with host bits cleared. IPNetwork refuses a base
    /// address with host bits set, and the kernel does not promise to clear them in what it reports.
    /// </summary>
    public static IPNetwork Network(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out var n);
        bytes = bytes[..n];
        for (var bit = prefixLength; bit < n * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }
}
