using System.Globalization;
using System.Net;

namespace Trellis.Net.Netcheck;

/// <summary>The IPv4 default gateway, read from /proc/net/route (where port-mapping services live).</summary>
public static class DefaultGateway
{
    private const int RouteUp = 0x1;
    private const int RouteGateway = 0x2;

    public static IPAddress? Read()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/net/route"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The gateway of the default route with the lowest metric; null when there is none.</summary>
    public static IPAddress? Parse(string procNetRoute)
    {
        IPAddress? best = null;
        var bestMetric = long.MaxValue;
        foreach (var line in procNetRoute.Split('\n').Skip(1))
        {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
            var fields = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8
                || fields[1] != "00000000"
                || fields[7] != "00000000"
                || !uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var gateway)
                || !int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || !long.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var metric)
                || (flags & (RouteUp | RouteGateway)) != (RouteUp | RouteGateway)
                || gateway == 0
                || metric >= bestMetric)
            {
                continue;
            }

            // The kernel prints the address's 32 bits as a host-order number.
            best = new IPAddress(BitConverter.GetBytes(gateway));
            bestMetric = metric;
        }

        return best;
    }
}
