using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Trellis.Net.PortMapping;

/// <summary>
/// UPnP IGD port mapping (WANIPConnection / WANPPPConnection AddPortMapping), the last resort of
/// <see cref="PortMapper"/>: SSDP finds the gateway's root description, which names the control URL
/// the SOAP actions go to. Only the gateway's own SSDP replies are taken, and requests go only to the
/// gateway's own address: a description or control URL elsewhere is refused before anything is sent
/// there. Bodies are bounded (<see cref="UpnpXml.MaxLength"/>) and parsed without DTDs. The control URL is kept for
/// renewals and found again when it stops answering. Sockets are opened synchronously in the calling
/// thread (its network namespace). Failures are a null result or false, never an exception (cancellation aside).
/// </summary>
public sealed class UpnpClient
{
    private const string Description = "trellis";

    /// <summary>A description fetch, the address query, the mapping and a few retries: the sockets a mapping may need.</summary>
    private const int MapSockets = 6;

    private readonly TimeProvider _time;
    private volatile UpnpService? _service;
    private volatile string? _lastError;

    public UpnpClient(IPAddress gateway, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (gateway.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("UPnP IGD port mapping is for an IPv4 gateway", nameof(gateway));
        }

        Gateway = gateway;
        _time = time ?? TimeProvider.System;
    }

    public IPAddress Gateway { get; }

    /// <summary>How long SSDP replies are waited for, all told (the search asks for MX 1).</summary>
    public TimeSpan DiscoveryTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The limit on each HTTP request.</summary>
    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where M-SEARCH goes: the SSDP port, except in tests.</summary>
    public int SsdpPort { get; init; } = SsdpSearch.Port;

    /// <summary>Why the last call returned null or false, for logs; null after a success.</summary>
    public string? LastError => _lastError;

    /// <summary>Maps UDP <paramref name="internalPort"/>, suggesting the same external port.</summary>
    public Task<PortMapping?> MapUdpAsync(int internalPort, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(internalPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(internalPort, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(lifetime, TimeSpan.FromSeconds(1));
        var seconds = (uint)Math.Min(uint.MaxValue, Math.Ceiling(lifetime.TotalSeconds));
        return DisposingAsync(Open(MapSockets), s => MapAsync(s, (ushort)internalPort, (ushort)internalPort, seconds, cancellationToken));
    }

    /// <summary>Renews a mapping: the same AddPortMapping again, which the IGD takes as an update.</summary>
    public Task<PortMapping?> RenewAsync(PortMapping mapping, TimeSpan? lifetime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var seconds = (uint)Math.Min(uint.MaxValue, Math.Ceiling((lifetime ?? mapping.Lifetime).TotalSeconds));
        ArgumentOutOfRangeException.ThrowIfZero(seconds, nameof(lifetime));
        return DisposingAsync(Open(MapSockets), s => MapAsync(s, (ushort)mapping.InternalPort, (ushort)mapping.External.Port, seconds, cancellationToken));
    }

    /// <summary>Deletes a mapping; true when the gateway confirmed.</summary>
    public Task<bool> DeleteAsync(PortMapping mapping, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return DisposingAsync(Open(3), s => DeleteAsync(s, mapping, cancellationToken));
    }

    private static async Task<T> DisposingAsync<T>(UpnpSockets? sockets, Func<UpnpSockets?, Task<T>> body)
    {
        using (sockets)
        {
            return await body(sockets).ConfigureAwait(false);
        }
    }

    /// <summary>The sockets of a later <see cref="MapAsync"/>, opened now in the calling thread.</summary>
    internal UpnpSockets? Prepare() => Open(MapSockets);

    private UpnpSockets? Open(int tcpCount)
    {
        var sockets = UpnpSockets.TryOpen(Gateway, tcpCount, out var error);
        _lastError = error;
        return sockets;
    }

    /// <summary>Maps with sockets from <see cref="Prepare"/>; the caller disposes them.</summary>
    internal async Task<PortMapping?> MapAsync(UpnpSockets? sockets, ushort internalPort, ushort suggestedPort, uint seconds, CancellationToken cancellationToken)
    {
        if (sockets is null)
        {
            return null;
        }

        var cached = _service;
        var mapping = await TryMapAsync(sockets, cached, internalPort, suggestedPort, seconds, cancellationToken).ConfigureAwait(false);
        if (mapping is null && cached is not null && _service is null)
        {
            // The remembered control URL stopped answering (a rebooted gateway): look for it again.
            mapping = await TryMapAsync(sockets, null, internalPort, suggestedPort, seconds, cancellationToken).ConfigureAwait(false);
        }

        return mapping;
    }

    private async Task<PortMapping?> TryMapAsync(
        UpnpSockets sockets, UpnpService? service, ushort internalPort, ushort suggestedPort, uint seconds, CancellationToken cancellationToken)
    {
        using var http = Http(sockets);
        service ??= await DiscoverAsync(sockets, http, cancellationToken).ConfigureAwait(false);
        if (service is null)
        {
            return null;
        }

        var address = await ActAsync(http, service, "GetExternalIPAddress", [], cancellationToken).ConfigureAwait(false);
        if (address is not { } a || !a.Succeeded)
        {
            return null;
        }

        if (!a.Values.TryGetValue("NewExternalIPAddress", out var text) || !IPAddress.TryParse(text, out var external)
            || external.AddressFamily != AddressFamily.InterNetwork || external.Equals(IPAddress.Any))
        {
            _lastError = $"UPnP gateway {Gateway} has no external IPv4 address ('{text}')";
            return null;
        }

        var externalPort = suggestedPort;
        var lease = seconds;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var reply = await ActAsync(http, service, "AddPortMapping", AddArguments(sockets.LocalAddress, internalPort, externalPort, lease), cancellationToken)
                .ConfigureAwait(false);
            if (reply is not { } r)
            {
                return null;
            }

            if (r.Succeeded)
            {
                _lastError = null;
                return new PortMapping
                {
                    External = new IPEndPoint(external, externalPort),
                    InternalPort = internalPort,

                    // A permanent lease (0) is renewed like any other: re-adding it is harmless.
                    Lifetime = TimeSpan.FromSeconds(seconds),
                    Protocol = PortMappingProtocol.Upnp,
                    Gateway = Gateway,
                };
            }

            if (r.ErrorCode == UpnpSoap.OnlyPermanentLeasesSupported && lease != 0)
            {
                lease = 0;
            }
            else if (r.ErrorCode == UpnpSoap.ConflictInMappingEntry)
            {
                externalPort = (ushort)RandomNumberGenerator.GetInt32(1024, ushort.MaxValue + 1); // taken by another host
            }
            else
            {
                break;
            }
        }

        return null;
    }

    private async Task<bool> DeleteAsync(UpnpSockets? sockets, PortMapping mapping, CancellationToken cancellationToken)
    {
        if (sockets is null)
        {
            return false;
        }

        using var http = Http(sockets);
        var service = _service ?? await DiscoverAsync(sockets, http, cancellationToken).ConfigureAwait(false);
        if (service is null)
        {
            return false;
        }

        var reply = await ActAsync(
            http,
            service,
            "DeletePortMapping",
            [("NewRemoteHost", ""), ("NewExternalPort", Number(mapping.External.Port)), ("NewProtocol", "UDP")],
            cancellationToken).ConfigureAwait(false);
        if (reply is { Succeeded: true })
        {
            _lastError = null;
            return true;
        }

        return false;
    }

    private static (string, string)[] AddArguments(IPAddress client, ushort internalPort, ushort externalPort, uint lease) =>
    [
        ("NewRemoteHost", ""),
        ("NewExternalPort", Number(externalPort)),
        ("NewProtocol", "UDP"),
        ("NewInternalPort", Number(internalPort)),
        ("NewInternalClient", client.ToString()),
        ("NewEnabled", "1"),
        ("NewPortMappingDescription", Description),
        ("NewLeaseDuration", Number(lease)),
    ];

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static HttpClient Http(UpnpSockets sockets) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = sockets.ConnectAsync,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each request has its own, on our clock
            MaxResponseContentBufferSize = UpnpXml.MaxLength,
        };

    /// <summary>M-SEARCH to the SSDP group and to the gateway itself, then the first description that names a WAN connection.</summary>
    private async Task<UpnpService?> DiscoverAsync(UpnpSockets sockets, HttpClient http, CancellationToken cancellationToken)
    {
        var location = await SearchAsync(sockets.Ssdp, cancellationToken).ConfigureAwait(false);
        if (location is null)
        {
            return null;
        }

        if (!UpnpGatewayUrl.IsOnGateway(location, Gateway))
        {
            _lastError = $"UPnP gateway {Gateway} gave the description URL {location}, which is not on the gateway's own address: refused, nothing was sent there";
            return null;
        }

        var xml = await FetchAsync(http, new HttpRequestMessage(HttpMethod.Get, location), cancellationToken).ConfigureAwait(false);
        if (xml is null)
        {
            return null;
        }

        if (!UpnpDescription.TryFindService(xml.Value.Body, location, out var service))
        {
            _lastError = UpnpXml.TryParse(xml.Value.Body, out var invalid) is null
                ? $"UPnP description {location} refused: {invalid}"
                : $"UPnP description {location} names no WAN connection service";
            return null;
        }

        if (!UpnpGatewayUrl.IsOnGateway(service.ControlUrl, Gateway))
        {
            _lastError = $"UPnP description {location} names the control URL {service.ControlUrl}, which is not on the gateway's own address {Gateway}: refused, nothing was sent there";
            return null;
        }

        _service = service;
        return service;
    }

    private async Task<Uri?> SearchAsync(Socket socket, CancellationToken cancellationToken)
    {
        var request = SsdpSearch.Request();
        var targets = new[]
        {
            new IPEndPoint(IPAddress.Parse(SsdpSearch.MulticastAddress), SsdpPort),
            new IPEndPoint(Gateway, SsdpPort), // miniupnpd and most IGDs answer a unicast search too
        };
        var buffer = new byte[SsdpSearch.MaxLength + 1];
        var started = _time.GetTimestamp();
        var interval = TimeSpan.FromMilliseconds(250);
        while (_time.GetElapsedTime(started) < DiscoveryTimeout)
        {
            foreach (var target in targets)
            {
                try
                {
                    await socket.SendToAsync(request, SocketFlags.None, target, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    // No multicast route (or no unicast one): the other target may still do.
                }
            }

            // Past the timeout after the sends (a busy machine): stop. A wait of -1 ms would be infinite.
            var remaining = DiscoveryTimeout - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            using var timer = new CancellationTokenSource(remaining < interval ? remaining : interval, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), linked.Token).ConfigureAwait(false);
                    if (((IPEndPoint)received.RemoteEndPoint).Address.Equals(Gateway)
                        && SsdpSearch.TryParseResponse(buffer.AsSpan(0, received.ReceivedBytes), out var location))
                    {
                        return location;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // This interval is over: search again, unless the whole timeout is.
            }
            catch (SocketException e)
            {
                _lastError = $"SSDP search failed: {e.Message}";
                return null;
            }

            interval *= 2;
        }

        _lastError = string.Create(CultureInfo.InvariantCulture, $"no UPnP gateway answered SSDP from {Gateway} within {DiscoveryTimeout.TotalSeconds:0.###} s");
        return null;
    }

    /// <summary>One SOAP action; null (with the reason) unless the gateway answered with a response or a UPnP fault.</summary>
    private async Task<UpnpSoapResponse?> ActAsync(
        HttpClient http, UpnpService service, string action, (string, string)[] arguments, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, service.ControlUrl)
        {
            Content = new StringContent(UpnpSoap.Request(service.ServiceType, action, arguments), Encoding.UTF8, "text/xml"),
        };
        request.Headers.TryAddWithoutValidation("SOAPAction", UpnpSoap.SoapAction(service.ServiceType, action));
        var reply = await FetchAsync(http, request, cancellationToken).ConfigureAwait(false);
        if (reply is null)
        {
            _service = null; // found again next time
            return null;
        }

        if (!UpnpSoap.TryParseResponse(reply.Value.Body, action, out var response))
        {
            var why = UpnpXml.TryParse(reply.Value.Body, out var invalid) is null ? invalid : "no SOAP response in it";
            _lastError = string.Create(CultureInfo.InvariantCulture, $"UPnP {action}: HTTP {reply.Value.Status} refused: {why}");
            return null;
        }

        if (!response.Succeeded)
        {
            _lastError = string.Create(CultureInfo.InvariantCulture, $"UPnP {action} refused by {Gateway}: {response.ErrorCode} {response.ErrorDescription}");
        }

        return response;
    }

    /// <summary>
    /// The body of any HTTP answer (SOAP faults come with status 500), read only up to
    /// <see cref="UpnpXml.MaxLength"/> bytes; null on a network error, a timeout or a longer body.
    /// </summary>
    private async Task<(int Status, string Body)?> FetchAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(HttpTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var body = await ReadBoundedAsync(response.Content, linked.Token).ConfigureAwait(false);
            if (body is null)
            {
                _lastError = $"UPnP answer from {request.RequestUri} refused: it is larger than {UpnpXml.MaxLength} bytes, far more than any IGD document";
                return null;
            }

            return ((int)response.StatusCode, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _lastError = string.Create(CultureInfo.InvariantCulture, $"no HTTP answer from {request.RequestUri} within {HttpTimeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            _lastError = $"UPnP HTTP to {request.RequestUri} failed: {e.Message}";
        }
        finally
        {
            request.Dispose();
        }

        return null;
    }

    /// <summary>The body as UTF-8 text, or null when it announces or turns out to be longer than the bound.</summary>
    private static async Task<string?> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > UpnpXml.MaxLength)
        {
            return null;
        }

        var buffer = new byte[UpnpXml.MaxLength + 1];
        var length = 0;
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }
        }

        // UTF-8 is what IGDs send; a byte order mark would read as text before the XML declaration.
        return length > UpnpXml.MaxLength ? null : Encoding.UTF8.GetString(buffer, 0, length).TrimStart('\uFEFF');
    }
}
