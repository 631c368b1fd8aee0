using System.Net.Sockets;
using Trellis.Core.Keys;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// The state of one set request, fed a line at a time, with wireguard-go's semantics: lines before the
/// first <c>public_key</c> configure the device, the rest configure the peer named last. A failing
/// line leaves the lines before it applied. Callers hold <see cref="UapiGate"/>.
/// </summary>
internal sealed class UapiSetSession(Device device)
{
    private bool _deviceSection = true;

    // The peer being configured; null while the section is ignored (our own key, removed, update_only).
    private Peer? _peer;
    private bool _created;

    // Applied when the section ends, so that the first keepalive goes to the endpoint set after it.
    private int? _keepalive;

    /// <summary>Applies one non-empty line; returns 0 or the errno that ends the request.</summary>
    public int ApplyLine(string line)
    {
        // bufio.ScanLines drops a CR before the LF.
        var text = line.AsSpan();
        if (text.EndsWith('\r'))
        {
            text = text[..^1];
        }

        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            return UapiErrno.Protocol;
        }

        var key = text[..equals];
        var value = text[(equals + 1)..];
        try
        {
            if (key.SequenceEqual("public_key"))
            {
                _deviceSection = false;
                EndPeer();
                return BeginPeer(value);
            }

            return _deviceSection ? ApplyDeviceLine(key, value) : ApplyPeerLine(key, value);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // wireguard-go answers an error it did not foresee with "errno=-55" too.
            return UapiErrno.Unknown;
        }
    }

    /// <summary>The request ended well (blank line or end of input): finishes the current peer.</summary>
    public void Complete() => EndPeer();

    /// <summary>
    /// The request failed: what was applied stays, the keepalive interval included (wireguard-go stores
    /// it as the line is read), but staged packets are not flushed.
    /// </summary>
    public void Abandon()
    {
        if (_peer is not null && _keepalive is { } seconds)
        {
            _peer.SetPersistentKeepalive(seconds);
        }

        _peer = null;
        _keepalive = null;
    }

    private int ApplyDeviceLine(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        switch (key)
        {
            case "private_key":
                if (!Key.TryParseHex(value, out var privateKey))
                {
                    return UapiErrno.Invalid;
                }

                device.SetPrivateKey(privateKey);
                return 0;

            case "listen_port":
                if (!UapiParsing.TryParseDecimal(value, ushort.MaxValue, out var port))
                {
                    return UapiErrno.Invalid;
                }

                return TryRebind(() => device.SetListenPort((ushort)port));

            case "fwmark":
                // Older wireguard-go took an empty value to mean 0, and so do we.
                ulong mark = 0;
                if (!value.IsEmpty && !UapiParsing.TryParseDecimal(value, uint.MaxValue, out mark))
                {
                    return UapiErrno.Invalid;
                }

                return TryRebind(() => device.SetFwmark((uint)mark));

            case "replace_peers":
                if (!value.SequenceEqual("true"))
                {
                    return UapiErrno.Invalid;
                }

                device.RemoveAllPeers();
                return 0;

            default:
                return UapiErrno.Invalid;
        }
    }

    private int BeginPeer(ReadOnlySpan<char> value)
    {
        _peer = null;
        _created = false;
        _keepalive = null;
        if (!Key.TryParseHex(value, out var publicKey))
        {
            return UapiErrno.Invalid;
        }

        // A section for our own key is parsed but ignored; with no identity, that is the zero key.
        var own = device.PublicKey ?? Key.Zero;
        if (own == publicKey)
        {
            return 0;
        }

        _peer = device.LookupPeer(publicKey);
        if (_peer is null)
        {
            try
            {
                _peer = device.AddPeer(publicKey);
                _created = true;
            }
            catch (ArgumentException)
            {
                return UapiErrno.Invalid;
            }
        }

        return 0;
    }

    private int ApplyPeerLine(ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        switch (key)
        {
            case "update_only":
                if (!value.SequenceEqual("true"))
                {
                    return UapiErrno.Invalid;
                }

                // wireguard-go creates the peer on public_key and takes it back here.
                if (_created && _peer is not null)
                {
                    device.RemovePeer(_peer.PublicKey);
                    _peer = null;
                    _keepalive = null;
                }

                return 0;

            case "remove":
                if (!value.SequenceEqual("true"))
                {
                    return UapiErrno.Invalid;
                }

                if (_peer is not null)
                {
                    device.RemovePeer(_peer.PublicKey);
                    _peer = null;
                    _keepalive = null;
                }

                return 0;

            case "preshared_key":
                if (!Key.TryParseHex(value, out var presharedKey))
                {
                    return UapiErrno.Invalid;
                }

                _peer?.SetPresharedKey(presharedKey);
                return 0;

            case "endpoint":
                if (!UapiParsing.TryParseEndpoint(value.ToString(), out var endpoint))
                {
                    return UapiErrno.Invalid;
                }

                _peer?.SetEndpoint(endpoint);
                return 0;

            case "persistent_keepalive_interval":
                if (!UapiParsing.TryParseDecimal(value, ushort.MaxValue, out var seconds))
                {
                    return UapiErrno.Invalid;
                }

                if (_peer is not null)
                {
                    _keepalive = (int)seconds;
                }

                return 0;

            case "replace_allowed_ips":
                if (!value.SequenceEqual("true"))
                {
                    return UapiErrno.Invalid;
                }

                if (_peer is not null)
                {
                    device.AllowedIps.RemoveByValue(_peer);
                }

                return 0;

            case "allowed_ip":
                Span<byte> address = stackalloc byte[16];
                var length = UapiParsing.TryParsePrefix(value, address, out var bits);
                if (length == 0)
                {
                    return UapiErrno.Invalid;
                }

                if (_peer is not null)
                {
                    device.AllowedIps.Insert(address[..length], bits, _peer);
                }

                return 0;

            case "protocol_version":
                return value.SequenceEqual("1") ? 0 : UapiErrno.Invalid;

            default:
                return UapiErrno.Invalid;
        }
    }

    /// <summary>wireguard-go's handlePostConfig: the first keepalive, then whatever waited for this peer.</summary>
    private void EndPeer()
    {
        var peer = _peer;
        _peer = null;
        if (peer is null)
        {
            return;
        }

        if (_keepalive is { } seconds)
        {
            peer.SetPersistentKeepalive(seconds);
            _keepalive = null;
        }

        // Only when something is staged: with nothing staged, our SendStagedPackets would start a handshake.
        if (device.IsUp && peer.StagedCount > 0)
        {
            peer.SendStagedPackets();
        }
    }

    private static int TryRebind(Action apply)
    {
        try
        {
            apply();
            return 0;
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return UapiErrno.AddressInUse;
        }
    }
}
