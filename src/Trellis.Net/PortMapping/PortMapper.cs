using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;
using System.Security.Cryptography;

namespace Trellis.Net.PortMapping;

/// <summary>
/// Asks the default gateway to forward a UDP port to this host: PCP MAP first (RFC 6887), NAT-PMP
/// (RFC 6886) when the gateway answers that it does not speak PCP version 2 or does not answer PCP at
/// all. miniupnpd speaks both on UDP 5351 and answers unknown versions with PCP UNSUPP_VERSION; a
/// NAT-PMP-only gateway answers a PCP request with its own version-0 "unsupported version" reply.
/// When neither answers at all, UPnP IGD (<see cref="UpnpClient"/>) is the last resort.
/// <para>
/// The mapping is for the internal port named in the request, not for the socket the request comes
/// from: each call opens its own socket, connected to the gateway so an ICMP port-unreachable (no
/// service) ends the wait at once. The socket is opened synchronously in the calling thread, i.e. in
/// that thread's network namespace. Failures are a null result, never an exception (cancellation aside).
/// </para>
/// <para>
/// Renewal is the caller's job: call <see cref="RenewAsync"/> at <see cref="RenewalDue"/> (half the
/// granted lifetime, as RFC 6886 §3.3 advises), and again sooner if it fails. A renewed mapping can
/// come back with another external port (a rebooted gateway), so re-advertise what it returns.
/// </para>
/// </summary>
public sealed class PortMapper
{
    /// <summary>RFC 6886 §3.3's recommended lifetime.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(7200);

    private const int ReceiveBufferSize = PcpPacket.MaxLength;

    private readonly IPEndPoint _server;
    private readonly TimeProvider _time;
    private readonly UpnpClient _upnp;
    private volatile string? _lastError;

    /// <param name="gateway">The default gateway (IPv4), where NAT-PMP and PCP servers listen.</param>
    /// <param name="time">Clock for retransmission and timeouts.</param>
    /// <param name="port">The server port; 5351 except in tests.</param>
    public PortMapper(IPAddress gateway, TimeProvider? time = null, int port = PcpPacket.Port)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        _server = new IPEndPoint(gateway, port);
        _time = time ?? TimeProvider.System;
        _upnp = new UpnpClient(gateway, _time);
    }

    /// <summary>Whether to try UPnP IGD when neither PCP nor NAT-PMP answers (an explicit refusal is final).</summary>
    public bool UseUpnp { get; init; } = true;

    public IPAddress Gateway => _server.Address;

    /// <summary>How long one request is retransmitted before giving up on it (each protocol has its own).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>First retransmission interval, doubling after each (RFC 6886 §3.1 starts at 250 ms).</summary>
    public TimeSpan InitialRetransmit { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Why the last call returned null or false, for logs; null after a success.</summary>
    public string? LastError => _lastError;

    // set when the gateway itself refused a PCP or NAT-PMP request during the current MapUdpAsync
    private volatile bool _refusedByGateway;

    /// <summary>When to renew: half the granted lifetime after it was granted.</summary>
    public static TimeSpan RenewalDue(PortMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return mapping.Lifetime / 2;
    }

    /// <summary>Asks for a new mapping of UDP <paramref name="internalPort"/> (suggesting the same external port); null when the gateway will not.</summary>
    public Task<PortMapping?> MapUdpAsync(int internalPort, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(internalPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(internalPort, ushort.MaxValue);
        var seconds = Seconds(lifetime);
        ArgumentOutOfRangeException.ThrowIfZero(seconds, nameof(lifetime));
        var nonce = RandomNumberGenerator.GetBytes(PcpPacket.NonceLength);
        _refusedByGateway = false;
        var natPmp = MapAsync((ushort)internalPort, (ushort)internalPort, null, seconds, nonce, PortMappingProtocol.Pcp, cancellationToken);
        if (!UseUpnp)
        {
            return natPmp;
        }

        // Opened now, in the caller's thread (namespace); the fallback itself runs after awaits.
        var upnp = _upnp.Prepare();
        return WithUpnpFallbackAsync(natPmp, upnp, (ushort)internalPort, seconds, cancellationToken);
    }

    private async Task<PortMapping?> WithUpnpFallbackAsync(Task<PortMapping?> natPmp, UpnpSockets? upnp, ushort internalPort, uint seconds, CancellationToken cancellationToken)
    {
        using (upnp)
        {
            var mapping = await natPmp.ConfigureAwait(false);
            var error = _lastError;

            // A gateway that answered PCP or NAT-PMP with a refusal has decided; only silence (or no
            // listener at all) leaves room for UPnP.
            if (mapping is not null || _refusedByGateway)
            {
                return mapping;
            }

            mapping = await _upnp.MapAsync(upnp, internalPort, internalPort, seconds, cancellationToken).ConfigureAwait(false);
            _lastError = mapping is null ? $"{error}; UPnP: {_upnp.LastError}" : null;
            return mapping;
        }
    }

    /// <summary>Renews a mapping with the protocol (and PCP nonce) that made it, asking for the same external port.</summary>
    public Task<PortMapping?> RenewAsync(PortMapping mapping, TimeSpan? lifetime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var seconds = Seconds(lifetime ?? mapping.Lifetime);
        ArgumentOutOfRangeException.ThrowIfZero(seconds, nameof(lifetime));
        if (mapping.Protocol == PortMappingProtocol.Upnp)
        {
            return WithUpnpErrorAsync(_upnp.RenewAsync(mapping, TimeSpan.FromSeconds(seconds), cancellationToken));
        }

        return MapAsync(
            (ushort)mapping.InternalPort,
            (ushort)mapping.External.Port,
            mapping.External.Address,
            seconds,
            mapping.Nonce.ToArray(),
            mapping.Protocol,
            cancellationToken);
    }

    /// <summary>Deletes a mapping (lifetime 0); true when the gateway confirmed.</summary>
    public async Task<bool> DeleteAsync(PortMapping mapping, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        if (mapping.Protocol == PortMappingProtocol.Upnp)
        {
            return await WithUpnpErrorAsync(_upnp.DeleteAsync(mapping, cancellationToken)).ConfigureAwait(false);
        }

        using var socket = TryOpen();
        if (socket is null)
        {
            return false;
        }

        var internalPort = (ushort)mapping.InternalPort;
        if (mapping.Protocol == PortMappingProtocol.Pcp)
        {
            var request = PcpPacket.MapRequest(
                LocalAddress(socket), mapping.Nonce.Span, PcpPacket.ProtocolUdp, internalPort, (ushort)mapping.External.Port, mapping.External.Address, 0);
            var reply = await ExchangeAsync(socket, request, r => IsOurs(r, mapping.Nonce.Span, internalPort), cancellationToken).ConfigureAwait(false);
            return reply is not null && PcpPacket.TryParseMapResponse(reply, out var pcp) && Succeeded(pcp.Result == PcpResultCode.Success, $"PCP delete: {pcp.Result}");
        }

        var answer = await ExchangeAsync(
            socket, NatPmpPacket.MapUdpRequest(internalPort, 0, 0), r => NatPmpPacket.TryParseMapResponse(r, out var m) && (m.Result != NatPmpResultCode.Success || m.InternalPort == internalPort),
            cancellationToken)
            .ConfigureAwait(false);
        return answer is not null && NatPmpPacket.TryParseMapResponse(answer, out var pmp)
            && Succeeded(pmp.Result == NatPmpResultCode.Success, $"NAT-PMP delete: {pmp.Result}");
    }

    private async Task<PortMapping?> MapAsync(
        ushort internalPort,
        ushort suggestedPort,
        IPAddress? suggestedAddress,
        uint lifetimeSeconds,
        byte[] nonce,
        PortMappingProtocol first,
        CancellationToken cancellationToken)
    {
        using var socket = TryOpen();
        if (socket is null)
        {
            return null;
        }

        if (first == PortMappingProtocol.Pcp)
        {
            var request = PcpPacket.MapRequest(LocalAddress(socket), nonce, PcpPacket.ProtocolUdp, internalPort, suggestedPort, suggestedAddress, lifetimeSeconds);
            var reply = await ExchangeAsync(socket, request, r => PcpPacket.IsUnsupportedVersion(r) || IsOurs(r, nonce, internalPort), cancellationToken)
                .ConfigureAwait(false);
            if (reply is null && _lastError is { } error && error.StartsWith("refused", StringComparison.Ordinal))
            {
                return null; // nothing listens on 5351: NAT-PMP is not there either
            }

            if (reply is not null && !PcpPacket.IsUnsupportedVersion(reply))
            {
                PcpPacket.TryParseMapResponse(reply, out var pcp);
                if (pcp.Result != PcpResultCode.Success)
                {
                    _lastError = $"PCP MAP refused by {Gateway}: {pcp.Result}";
                    _refusedByGateway = true;
                    return null;
                }

                _lastError = null;
                return new PortMapping
                {
                    External = new IPEndPoint(pcp.ExternalAddress, pcp.ExternalPort),
                    InternalPort = internalPort,
                    Lifetime = TimeSpan.FromSeconds(pcp.LifetimeSeconds),
                    Protocol = PortMappingProtocol.Pcp,
                    Gateway = Gateway,
                    Nonce = nonce,
                };
            }

            // UNSUPP_VERSION, or silence: the gateway may still speak NAT-PMP.
        }

        return await MapWithNatPmpAsync(socket, internalPort, suggestedPort, lifetimeSeconds, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PortMapping?> MapWithNatPmpAsync(Socket socket, ushort internalPort, ushort suggestedPort, uint lifetimeSeconds, CancellationToken cancellationToken)
    {
        var addressReply = await ExchangeAsync(
            socket, NatPmpPacket.ExternalAddressRequest(), r => NatPmpPacket.TryParseExternalAddressResponse(r, out _), cancellationToken)
            .ConfigureAwait(false);
        if (addressReply is null)
        {
            return null;
        }

        NatPmpPacket.TryParseExternalAddressResponse(addressReply, out var address);
        if (address.Result != NatPmpResultCode.Success)
        {
            _lastError = $"NAT-PMP external address refused by {Gateway}: {address.Result}";
            _refusedByGateway = true;
            return null;
        }

        var mapReply = await ExchangeAsync(
            socket,
            NatPmpPacket.MapUdpRequest(internalPort, suggestedPort, lifetimeSeconds),
            r => NatPmpPacket.TryParseMapResponse(r, out var m) && (m.Result != NatPmpResultCode.Success || m.InternalPort == internalPort),
            cancellationToken).ConfigureAwait(false);
        if (mapReply is null)
        {
            return null;
        }

        NatPmpPacket.TryParseMapResponse(mapReply, out var map);
        if (map.Result != NatPmpResultCode.Success || map.ExternalPort == 0 || map.LifetimeSeconds == 0)
        {
            _lastError = $"NAT-PMP map refused by {Gateway}: {map.Result}";
            _refusedByGateway = true;
            return null;
        }

        _lastError = null;
        return new PortMapping
        {
            External = new IPEndPoint(address.ExternalAddress, map.ExternalPort),
            InternalPort = internalPort,
            Lifetime = TimeSpan.FromSeconds(map.LifetimeSeconds),
            Protocol = PortMappingProtocol.NatPmp,
            Gateway = Gateway,
        };
    }

    /// <summary>
    /// Sends <paramref name="request"/> until a datagram passes <paramref name="accept"/>, doubling the
    /// interval from <see cref="InitialRetransmit"/>, for at most <see cref="Timeout"/>. Null on
    /// timeout or a socket error (recorded in <see cref="LastError"/>).
    /// </summary>
    private async Task<byte[]?> ExchangeAsync(Socket socket, byte[] request, Func<byte[], bool> accept, CancellationToken cancellationToken)
    {
        var buffer = new byte[ReceiveBufferSize];
        var started = _time.GetTimestamp();
        var interval = InitialRetransmit;
        try
        {
            while (true)
            {
                await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                // Past the timeout after the send (a busy machine): a wait of -1 ms would be infinite,
                // a longer negative one throws; give the answer no more time than the timeout leaves.
                var remaining = Timeout - _time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    remaining = TimeSpan.FromMilliseconds(1);
                }

                using var timer = new CancellationTokenSource(remaining < interval ? remaining : interval, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
                try
                {
                    while (true)
                    {
                        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                        var reply = buffer.AsSpan(0, length).ToArray();
                        if (accept(reply))
                        {
                            return reply;
                        }
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // This interval is over: retransmit, unless the whole timeout is.
                }

                if (_time.GetElapsedTime(started) >= Timeout)
                {
                    _lastError = string.Create(CultureInfo.InvariantCulture, $"no answer from {_server} within {Timeout.TotalSeconds:0.###} s");
                    return null;
                }

                interval *= 2;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            _lastError = $"refused: nothing listens on {_server}";
            return null;
        }
        catch (SocketException e)
        {
            _lastError = $"cannot reach {_server}: {e.Message}";
            return null;
        }
    }

    private Socket? TryOpen()
    {
        var socket = new Socket(_server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            UnderlayMark.Apply(socket);
            // Connected: replies are taken from the gateway alone (RFC 6886 §3.1) and ICMP errors are seen.
            socket.Connect(_server);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            _lastError = $"cannot reach {_server}: {e.Message}";
            return null;
        }
    }

    private async Task<T> WithUpnpErrorAsync<T>(Task<T> upnp)
    {
        var result = await upnp.ConfigureAwait(false);
        _lastError = _upnp.LastError;
        return result;
    }

    private static IPAddress LocalAddress(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Address;

    private static bool IsOurs(byte[] reply, ReadOnlySpan<byte> nonce, ushort internalPort) =>
        PcpPacket.TryParseMapResponse(reply, out var response)
        && response.Nonce.Span.SequenceEqual(nonce)
        && (response.Result != PcpResultCode.Success || (response.Protocol == PcpPacket.ProtocolUdp && response.InternalPort == internalPort));

    private bool Succeeded(bool success, string error)
    {
        _lastError = success ? null : error;
        return success;
    }

    private static uint Seconds(TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lifetime, TimeSpan.Zero);
        return (uint)Math.Min(uint.MaxValue, Math.Ceiling(lifetime.TotalSeconds));
    }
}
