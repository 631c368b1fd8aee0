using System.Globalization;
using System.Text;
using Trellis.Core.Keys;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// The cross-platform WireGuard configuration protocol (https://www.wireguard.com/xplatform/) over a
/// <see cref="Device"/>, line for line as wireguard-go speaks it, so that wg(8) and other tools drive
/// Trellis as they drive wireguard-go.
/// </summary>
public static partial class UapiProtocol
{
    /// <summary>
    /// Writes the answer to <c>get=1</c>: the device (private_key, listen_port, fwmark; each only when
    /// set), then per peer public_key, preshared_key, protocol_version, endpoint (when known),
    /// last_handshake_time_sec/nsec, tx_bytes, rx_bytes, persistent_keepalive_interval and its
    /// allowed_ip lines. Keys are lowercase hex and every line ends in <c>\n</c>. As with
    /// wireguard-go's IpcGetOperation, the <c>errno=0</c> line and the blank line that end a response
    /// on the socket are not included: <see cref="UapiServer"/> adds them.
    /// </summary>
    public static void WriteGet(Device device, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(output);
        var gate = UapiGate.For(device);
        gate.Wait();
        string text;
        try
        {
            text = FormatGet(device);
        }
        finally
        {
            gate.Release();
        }

        output.Write(text);
    }

    /// <summary>Formats the get answer; the caller holds <see cref="UapiGate"/>.</summary>
    internal static string FormatGet(Device device)
    {
        var sb = new StringBuilder(256);
        if (device.PrivateKey is { } privateKey)
        {
            sb.AppendKey("private_key", privateKey);
        }

        var port = device.ListenPort;
        if (port != 0)
        {
            sb.AppendNumber("listen_port", port);
        }

        var fwmark = device.Fwmark;
        if (fwmark != 0)
        {
            sb.AppendNumber("fwmark", fwmark);
        }

        foreach (var peer in device.Peers)
        {
            sb.AppendKey("public_key", peer.PublicKey);
            sb.AppendKey("preshared_key", PresharedKeyOf(peer));
            sb.Append("protocol_version=1\n");
            if (peer.Endpoint is { } endpoint)
            {
                sb.Append("endpoint=").AppendEndpoint(endpoint).Append('\n');
            }

            var nanos = peer.LastHandshakeUnixNanos;
            sb.AppendNumber("last_handshake_time_sec", nanos / 1_000_000_000);
            sb.AppendNumber("last_handshake_time_nsec", nanos % 1_000_000_000);
            sb.AppendNumber("tx_bytes", peer.TxBytes);
            sb.AppendNumber("rx_bytes", peer.RxBytes);
            sb.AppendNumber("persistent_keepalive_interval", peer.PersistentKeepaliveInterval);
            foreach (var (address, cidr) in device.AllowedIps.EntriesFor(peer))
            {
                sb.Append("allowed_ip=").AppendAddress(address).Append('/')
                  .Append(cidr.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return sb.ToString();
    }

    // Peer exposes only HasPresharedKey publicly; the key itself is read under the handshake lock that guards it.
    private static Key PresharedKeyOf(Peer peer)
    {
        lock (peer.Handshake.SyncRoot)
        {
            return new Key(peer.PresharedKey);
        }
    }

    private static void AppendKey(this StringBuilder sb, string name, Key key) =>
        sb.Append(name).Append('=').Append(key.ToHex()).Append('\n');

    private static void AppendNumber(this StringBuilder sb, string name, long value) =>
        sb.Append(name).Append('=').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
