using System.Globalization;

namespace Trellis.Net;

/// <summary>
/// The size asked for each UDP socket's send and receive buffers: 7 MiB unless TRELLIS_UDP_BUFFER
/// says otherwise (bytes, or a number with K or M for KiB and MiB). As root the size is forced past
/// net.core.rmem_max/wmem_max; otherwise the kernel caps it there.
/// </summary>
public static class UdpBufferSize
{
    public const string Variable = "TRELLIS_UDP_BUFFER";

    /// <summary>As wireguard-go asks: enough to absorb bursts at several Gbit/s.</summary>
    public const int Default = 7 << 20;

    public const int Min = 64 << 10;
    public const int Max = 1 << 30;

    /// <summary>The size <paramref name="value"/> names, or <see cref="Default"/> when unset, malformed or out of range.</summary>
    public static int Parse(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return Default;
        }

        var shift = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 10,
            'M' => 20,
            _ => 0,
        };
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > Max)
        {
            return Default;
        }

        var bytes = number << shift;
        return bytes is >= Min and <= Max ? (int)bytes : Default;
    }

    public static int FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));
}
