using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Tls;

namespace Trellis.Core.Transport;

/// <summary>
/// The TCP connect of Trellis's HTTP clients (a <see cref="SocketsHttpHandler.ConnectCallback"/>) and
/// of its relay clients, each socket with the underlay mark (<see cref="UnderlayMark"/>):
/// every address of the name in turn, as .NET's own connect does, but remembering why each failed, so
/// "nothing listens on 192.0.2.1:443" is not hidden behind the IPv6 attempt's "network is
/// unreachable", and a name that does not resolve says so. With a connect timeout, an address that
/// does not answer (a dead host: no refusal, only silence) gets its share of it and the next address
/// the rest, so a name for several replicas reaches a live one instead of waiting on the dead one's
/// address every time.
/// </summary>
public static class AddressByAddressConnector
{
    /// <param name="ca">A private CA (--ca-cert) to trust beside the system's roots; null: the system's alone.</param>
    public static SocketsHttpHandler Handler(TimeSpan connectTimeout, PrivateCa? ca = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint, Dns.GetHostAddressesAsync, connectTimeout, ct),
        };
        ca?.ApplyTo(handler.SslOptions);
        return handler;
    }

    /// <param name="resolve">The name lookup (tests give a name several addresses without DNS).</param>
    /// <param name="connectTimeout">The whole connect's limit, shared out between the addresses; null: none but the caller's token.</param>
    public static async ValueTask<Stream> ConnectAsync(
        DnsEndPoint target, Func<string, CancellationToken, Task<IPAddress[]>> resolve, TimeSpan? connectTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        IPAddress[] addresses;
        if (IPAddress.TryParse(target.Host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await resolve(target.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new ConnectFailure($"the name {target.Host} does not resolve ({e.Message})", e);
            }

            if (addresses.Length == 0)
            {
                throw new ConnectFailure($"the name {target.Host} has no addresses");
            }
        }

        var failures = new List<string>();
        Exception? last = null;
        var share = connectTimeout / addresses.Length;
        for (var i = 0; i < addresses.Length; i++)
        {
            var address = addresses[i];
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (share is { } limit && i < addresses.Length - 1)
            {
                attempt.CancelAfter(limit); // the last address keeps whatever the caller's timeout leaves
            }

            try
            {
                UnderlayMark.Apply(socket);
                await socket.ConnectAsync(new IPEndPoint(address, target.Port), attempt.Token).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{new IPEndPoint(address, target.Port)}: {e.Message}"));
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = e;
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{new IPEndPoint(address, target.Port)}: no answer within {share!.Value.TotalSeconds:0.#} s"));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new ConnectFailure(failures.Count == 1 ? failures[0] : $"every address failed: {string.Join("; ", failures)}", last);
    }
}
