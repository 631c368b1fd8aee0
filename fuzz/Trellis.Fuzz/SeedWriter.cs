using System.Buffers.Binary;
using System.Net;
using System.Text;
using Trellis.Core.Control;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Discovery.Messages;
using ARSoft.Tools.Net.Dns;
using Trellis.Fuzz.Targets;
using Trellis.Net.PortMapping;
using Trellis.Net.Stun;
using Trellis.Relay.Protocol;
using Trellis.Testing;
using Trellis.WireGuard;

namespace Trellis.Fuzz;

/// <summary>
/// Writes the seed inputs of every target (valid messages made by our own writers, and near-valid
/// ones: cut short, one field wrong), one file each under <c>DIRECTORY/TARGET/</c>. The seeds are
/// committed in <c>fuzz/corpus</c>; this is how they were made, and how to make them again after a
/// wire format changes. Crashers found by afl-fuzz are added beside them by hand.
/// </summary>
public static class SeedWriter
{
    public static void WriteAll(string directory)
    {
        WriteStun(Path.Combine(directory, "stun"));
        WriteDisco(Path.Combine(directory, "disco"));
        WriteRelayFrames(Path.Combine(directory, "relay-frames"));
        WriteRelayHandshake(Path.Combine(directory, "relay-handshake"));
        WriteControlFraming(Path.Combine(directory, "control-framing"));
        WriteControlJson(Path.Combine(directory, "control-json"));
        WritePcp(Path.Combine(directory, "pcp"));
        WriteNatPmp(Path.Combine(directory, "natpmp"));
        WriteSsdp(Path.Combine(directory, "ssdp"));
        WriteUpnpDescription(Path.Combine(directory, "upnp-description"));
        WriteUpnpSoap(Path.Combine(directory, "upnp-soap"));
        WriteUapi(Path.Combine(directory, "uapi"));
        WriteWireGuard(Path.Combine(directory, "wireguard"));
        PacketFilterSeeds.Write(Path.Combine(directory, "packet-filter"));
        WriteDnsQuery(Path.Combine(directory, "dns-query"));
    }

    private static void Write(string directory, string name, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, name), bytes.ToArray());
    }

    private static void WriteText(string directory, string name, string text) => Write(directory, name, Encoding.UTF8.GetBytes(text));

    private static void WriteDnsQuery(string dir)
    {
        Write(dir, "a-full-name", DnsQueryWire.Query("bravo.mesh.test", RecordType.A));
        Write(dir, "aaaa-short-name", DnsQueryWire.Query("bravo", RecordType.Aaaa));
        Write(dir, "ptr", DnsQueryWire.Query("2.0.64.100.in-addr.arpa", RecordType.Ptr));
        Write(dir, "a-foreign-name", DnsQueryWire.Query("example.org", RecordType.A));
        var query = DnsQueryWire.Query("bravo.mesh.test", RecordType.A);
        Write(dir, "cut-in-the-name", Cut(query, 18));
        Write(dir, "cut-in-the-header", Cut(query, 7));
        var loop = (byte[])query.Clone();
        loop[12] = 0xc0; // a compression pointer to the header: the name never ends
        loop[13] = 0x0c;
        Write(dir, "pointer-loop", loop);
    }

    private static byte[] Cut(ReadOnlySpan<byte> bytes, int length) => bytes[..Math.Min(length, bytes.Length)].ToArray();

    private static void WriteStun(string dir)
    {
        var id = StunTransactionId.FromBytes("fuzz-txid-12"u8);
        Span<byte> buffer = stackalloc byte[512];
        var n = StunPacket.WriteBindingRequest(buffer, id);
        Write(dir, "binding-request", buffer[..n]);
        n = StunPacket.WriteBindingSuccess(buffer, id, Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.7:41641")), "trellis");
        Write(dir, "binding-success-v4", buffer[..n]);
        Write(dir, "binding-success-cut", Cut(buffer[..n], n - 6));
        var wrongFingerprint = buffer[..n].ToArray();
        wrongFingerprint[^1] ^= 1;
        Write(dir, "binding-success-bad-fingerprint", wrongFingerprint);
        n = StunPacket.WriteBindingSuccess(buffer, id, Endpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::7]:41641")));
        Write(dir, "binding-success-v6", buffer[..n]);
        n = StunPacket.WriteBindingError(buffer, id, 420, "Unknown Attribute", [0x0024, 0x0025], "trellis");
        Write(dir, "binding-error-420", buffer[..n]);
    }

    private static void WriteDisco(string dir)
    {
        var sealer = new DiscoSealer(FuzzKeys.Remote);
        Span<byte> packet = stackalloc byte[DiscoCodec.MaxPacketSize];
        Span<byte> inner = stackalloc byte[DiscoCodec.MaxInnerSize];
        var txId = DiscoTxId.Read("fuzz-disco-1"u8);
        DiscoMessage[] messages =
        [
            DiscoMessage.Ping(txId, FuzzKeys.RemotePublic),
            DiscoMessage.Pong(txId, Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.7:41641"))),
            DiscoMessage.CallMeMaybe([Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.168.1.20:41641")), Endpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::20]:41641"))]),
        ];
        foreach (var message in messages)
        {
            var name = message.Type.ToString().ToLowerInvariant();
            var n = sealer.Seal(FuzzKeys.LocalPublic, message, packet);
            Write(dir, $"sealed-{name}", packet[..n]);
            var m = DiscoCodec.WriteInner(message, inner);
            Write(dir, $"inner-{name}", inner[..m]);
        }

        var tampered = packet[..sealer.Seal(FuzzKeys.LocalPublic, messages[0], packet)].ToArray();
        tampered[^1] ^= 1;
        Write(dir, "sealed-ping-tampered", tampered);
        Write(dir, "inner-call-me-maybe-ragged", inner[..(1 + DiscoCodec.EndpointSize + 3)]);
    }

    private static void WriteRelayFrames(string dir)
    {
        var stream = new MemoryStream();
        Span<byte> frame = stackalloc byte[256];
        void Add(int n, Span<byte> f) => stream.Write(f[..n]);
        Add(FrameCodec.WriteServerKey(frame, FuzzKeys.LocalPublic, FuzzKeys.Challenge), frame);
        Add(FrameCodec.WritePacket(frame, FrameType.ReceivePacket, FuzzKeys.RemotePublic, "a wireguard datagram"u8), frame);
        Add(FrameCodec.WriteForwardPacket(frame, FuzzKeys.RemotePublic, FuzzKeys.LocalPublic, "forwarded"u8), frame);
        Add(FrameCodec.WriteKey(frame, FrameType.PeerPresent, FuzzKeys.RemotePublic), frame);
        Add(FrameCodec.WritePeerGone(frame, FuzzKeys.RemotePublic, PeerGoneReason.NotHere), frame);
        Add(FrameCodec.WriteNotePreferred(frame, true), frame);
        Add(FrameCodec.WritePing(frame, FrameType.Ping, 0x0102030405060708), frame);
        Add(FrameCodec.WriteHealth(frame, "relay overloaded"), frame);
        Add(FrameCodec.WriteRestarting(frame, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)), frame);
        Add(FrameCodec.WriteEmpty(frame, FrameType.KeepAlive), frame);
        var all = stream.ToArray();
        Write(dir, "session", all);
        Write(dir, "session-cut-inside-frame", Cut(all, all.Length - 3));
        Write(dir, "session-cut-inside-header", Cut(all, 2));
        var tooLong = new byte[RelayProtocol.HeaderSize];
        FrameCodec.WriteHeader(tooLong, FrameType.SendPacket, RelayProtocol.MaxFrameLength + 1);
        Write(dir, "frame-too-long", tooLong);
        var badHealth = new byte[RelayProtocol.HeaderSize + 2];
        FrameCodec.WriteHeader(badHealth, FrameType.Health, 2);
        badHealth[^2] = 0xC3;
        badHealth[^1] = 0x28; // not UTF-8
        Write(dir, "health-invalid-utf8", badHealth);
    }

    private static void WriteRelayHandshake(string dir)
    {
        var serverKey = new byte[FrameCodec.FrameSize(RelayProtocol.MagicSize + 64)];
        var n = FrameCodec.WriteServerKey(serverKey, FuzzKeys.LocalPublic, FuzzKeys.Challenge);
        Write(dir, "server-key", serverKey.AsSpan(RelayProtocol.HeaderSize, n - RelayProtocol.HeaderSize));
        var clientInfo = HandshakeSeal.SealClientInfo(FuzzKeys.Remote, FuzzKeys.LocalPublic, FuzzKeys.Challenge, new RelayClientInfo { CanAckPings = true, MeshKey = "region mesh key" });
        Write(dir, "client-info", clientInfo.AsSpan(RelayProtocol.HeaderSize));
        var serverInfo = HandshakeSeal.SealServerInfo(FuzzKeys.Local, FuzzKeys.LocalPublic, FuzzKeys.RemotePublic, FuzzKeys.Challenge, new RelayServerInfo { RateLimitBytesPerSecond = 1 << 20, RateLimitBurstBytes = 1 << 22 });
        Write(dir, "server-info", serverInfo.AsSpan(RelayProtocol.HeaderSize));
        WriteText(dir, "client-info-json", """{"version":1,"meshKey":"region mesh key","canAckPings":true}""");
        WriteText(dir, "server-info-json", """{"version":1,"rateLimitBytesPerSecond":1048576,"rateLimitBurstBytes":4194304,"error":"not in the mesh"}""");
        WriteText(dir, "server-info-json-wrong-types", """{"version":"1","rateLimitBytesPerSecond":1e400}""");
    }

    private static ControlMessage[] SampleMessages()
    {
        var peer = new PeerInfo
        {
            Id = 7,
            Name = "berlin",
            NodeKey = FuzzKeys.RemotePublic.ToHex(),
            DiscoKey = FuzzKeys.LocalPublic.ToHex(),
            Addresses = ["100.64.0.7", "fd7a:7472:6c6c::7"],
            AllowedIps = ["100.64.0.7/32", "fd7a:7472:6c6c::7/128", "10.20.0.0/16"],
            Endpoints = ["198.51.100.7:41641", "[2001:db8::7]:41641"],
            HomeRelay = 900,
            Online = true,
            User = "ops",
            Tags = ["tag:server"],
        };
        return
        [
            new RegisterRequest { NodeKey = peer.NodeKey, DiscoKey = peer.DiscoKey, Hostname = "berlin", AuthKey = "tskey-fuzz", AdvertisedRoutes = ["10.20.0.0/16"] },
            new RegisterResponse { Status = "active", Self = peer },
            new MapRequest { Endpoints = ["198.51.100.7:41641"], HomeRelay = 900, Protocol = ControlProtocol.Current },
            new FullMap
            {
                Self = peer,
                Peers = [peer with { Id = 8, Name = "lisbon" }],
                RelayMap = SampleRelayMap(),
                OverlayPrefixes = ["100.64.0.0/10", "fd7a:7472:6c6c::/48"],
            },
            new MapDelta { PeersChanged = [peer], PeersKept = [8, 10], PeersRemoved = [9], Patches = [new PeerPatch { Id = 8, Online = false, HomeRelay = 901 }] },
            new EndpointUpdate { Endpoints = ["198.51.100.7:41641"], HomeRelay = 900 },
            new RouteAdvertisement { Routes = ["10.20.0.0/16"] },
            new PlainPeerReport { Peers = [new PlainPeerHandshake { Id = 9, AgeSeconds = 12 }, new PlainPeerHandshake { Id = 10 }] },
            new LogoutRequest(),
            new KeepaliveMessage(),
            new ErrorMessage { Code = "node-key-expired", Message = "log in again" },
        ];
    }

    private static RelayMap SampleRelayMap() => new()
    {
        Regions = [new RelayRegion { Id = 900, Code = "home", Name = "embedded", Nodes = [new RelayNode { Name = "900a", Host = "control.example", Port = 443, IPv4 = "203.0.113.1" }] }],
    };

    private static void WriteControlFraming(string dir)
    {
        var messages = SampleMessages();
        var two = MessageFramer.Encode(messages[2]).Concat(MessageFramer.Encode(messages[8])).ToArray();
        Write(dir, "two-messages-chunk-7", [6, .. two]);
        Write(dir, "two-messages-chunk-256", [255, .. two]);
        var full = MessageFramer.Encode(messages[3]);
        Write(dir, "full-map-chunk-64", [63, .. full]);
        Write(dir, "full-map-cut", [63, .. full.AsSpan(0, full.Length / 2)]);
        Write(dir, "zero-length", [3, 0, 0, 0, 0]);
        Write(dir, "negative-length", [3, 0xFF, 0xFF, 0xFF, 0xF0, (byte)'{']);
        Write(dir, "over-limit", [3, 0x01, 0x00, 0x00, 0x00, (byte)'{']);
    }

    private static void WriteControlJson(string dir)
    {
        foreach (var message in SampleMessages())
        {
            var framed = MessageFramer.Encode(message);
            var type = message.GetType().Name;
            Write(dir, type, framed.AsSpan(4));
        }

        WriteText(dir, "relay-map", System.Text.Json.JsonSerializer.Serialize(SampleRelayMap(), ControlJsonContext.Default.RelayMap));
        WriteText(dir, "unknown-type", """{"type":"shutdown","reason":"x"}""");
        WriteText(dir, "type-not-first", """{"code":"x","message":"y","type":"error"}""");
        WriteText(dir, "missing-required", """{"type":"register","nodeKey":"00"}""");
        WriteText(dir, "json-null", "null");
        WriteText(dir, "deep-nesting", """{"type":"full-map","self":""" + new string('[', 80) + new string(']', 80) + "}");
    }

    private static void WritePcp(string dir)
    {
        var reply = PcpPacket.MapRequest(IPAddress.Parse("192.168.1.20"), "fuzz-nonce12"u8, PcpPacket.ProtocolUdp, 41641, 41641, null, 7200);
        reply[1] |= PcpPacket.ResponseBit;
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), 12345); // epoch; the client address is not echoed
        reply.AsSpan(12, 12).Clear();
        IPAddress.Parse("198.51.100.7").MapToIPv6().TryWriteBytes(reply.AsSpan(44), out _);
        Write(dir, "map-success", reply);
        var refused = reply.ToArray();
        refused[3] = 8; // NO_RESOURCES
        Write(dir, "map-no-resources", refused);
        Write(dir, "map-cut", Cut(reply, 40));
        Write(dir, "map-with-option", [.. reply, 0x01, 0x00, 0x00, 0x04, 0xC0, 0x00, 0x02, 0x01]);
        Write(dir, "unsupported-version", [2, 0x81, 0, 1, 0, 0, 0, 0]);
        Write(dir, "natpmp-only-gateway", [0, 0x81, 0, 1, 0, 0, 0, 0]);
    }

    private static void WriteNatPmp(string dir)
    {
        Write(dir, "external-address", [0, 0x80, 0, 0, 0, 0, 0x30, 0x39, 198, 51, 100, 7]);
        Write(dir, "map-udp", [0, 0x81, 0, 0, 0, 0, 0x30, 0x39, 0xA2, 0xA9, 0xA2, 0xA9, 0, 0, 0x1C, 0x20]);
        Write(dir, "map-refused-short", [0, 0x81, 0, 3, 0, 0, 0x30, 0x39]);
        Write(dir, "map-cut", [0, 0x81, 0, 0, 0, 0, 0x30, 0x39, 0xA2, 0xA9]);
        Write(dir, "request-echo", NatPmpPacket.MapUdpRequest(41641, 41641, 7200));
    }

    private static void WriteSsdp(string dir)
    {
        WriteText(dir, "reply", "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:fuzz::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: miniupnpd/2.3\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\n\r\n");
        WriteText(dir, "reply-lowercase", "HTTP/1.1 200 OK\r\nlocation:http://192.168.1.1:49152/desc.xml\r\n\r\n");
        WriteText(dir, "reply-https-location", "HTTP/1.1 200 OK\r\nLOCATION: https://192.168.1.1/desc.xml\r\n\r\n");
        WriteText(dir, "not-ok", "HTTP/1.1 404 Not Found\r\n\r\n");
        WriteText(dir, "notify", "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\n\r\n");
    }

    private const string Description = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0">
          <specVersion><major>1</major><minor>0</minor></specVersion>
          <device>
            <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
            <deviceList><device>
              <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
              <deviceList><device>
                <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
                <serviceList><service>
                  <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
                  <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
                  <controlURL>/ctl/IPConn</controlURL>
                </service></serviceList>
              </device></deviceList>
            </device></deviceList>
          </device>
        </root>
        """;

    private static void WriteUpnpDescription(string dir)
    {
        WriteText(dir, "wanip", Description);
        WriteText(dir, "ppp-with-urlbase", Description.Replace("WANIPConnection:1", "WANPPPConnection:1", StringComparison.Ordinal)
            .Replace("<specVersion>", "<URLBase>http://192.168.1.1:49000/</URLBase><specVersion>", StringComparison.Ordinal));
        WriteText(dir, "absolute-control-url", Description.Replace("/ctl/IPConn", "http://192.168.1.1:5000/ctl/IPConn", StringComparison.Ordinal));
        WriteText(dir, "cut", Description[..(Description.Length / 2)]);
        WriteText(dir, "entities", """
            <?xml version="1.0"?>
            <!DOCTYPE root [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>&b;</deviceType></device></root>
            """);
    }

    private static void WriteUpnpSoap(string dir)
    {
        const string envelope = """<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{0}</s:Body></s:Envelope>""";
        WriteText(dir, "add-port-mapping", string.Format(System.Globalization.CultureInfo.InvariantCulture, envelope, """<u:AddPortMappingResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"/>"""));
        WriteText(dir, "external-ip", string.Format(System.Globalization.CultureInfo.InvariantCulture, envelope, """<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>198.51.100.7</NewExternalIPAddress></u:GetExternalIPAddressResponse>"""));
        WriteText(dir, "fault-718", string.Format(System.Globalization.CultureInfo.InvariantCulture, envelope, """<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>"""));
        WriteText(dir, "fault-no-code", string.Format(System.Globalization.CultureInfo.InvariantCulture, envelope, """<s:Fault><faultstring>busy</faultstring></s:Fault>"""));
        WriteText(dir, "empty-body", string.Format(System.Globalization.CultureInfo.InvariantCulture, envelope, ""));
        WriteText(dir, "html", "<html><body>401 Unauthorized</body></html>");
    }

    private static void WriteUapi(string dir)
    {
        var peer = FuzzKeys.RemotePublic.ToHex();
        var own = FuzzKeys.Local.ToHex();
        WriteText(dir, "device-and-peer", $"private_key={own}\nlisten_port=51820\nfwmark=0\nreplace_peers=true\npublic_key={peer}\npreshared_key={new string('0', 64)}\nendpoint=192.0.2.2:51821\npersistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\nprotocol_version=1\n\n");
        WriteText(dir, "peer-ipv6-endpoint", $"public_key={peer}\nendpoint=[2001:db8::2%eth0]:51821\nallowed_ip=0.0.0.0/0\nallowed_ip=::/0\n\n");
        WriteText(dir, "update-only-and-remove", $"public_key={peer}\nupdate_only=true\nallowed_ip=10.0.0.0/8\npublic_key={peer}\nremove=true\n\n");
        WriteText(dir, "crlf", $"public_key={peer}\r\nendpoint=192.0.2.2:51821\r\n\r\n");
        WriteText(dir, "bad-key", "public_key=zz\n\n");
        WriteText(dir, "bad-prefix", $"public_key={peer}\nallowed_ip=10.0.0.2/33\n\n");
        WriteText(dir, "unknown-key", "listen_port=51820\nmtu=1420\n\n");
        WriteText(dir, "long-line", "private_key=" + new string('a', Trellis.WireGuard.Uapi.UapiLimits.MaxLineLength + 8) + "\n\n");
    }

    private static void WriteWireGuard(string dir)
    {
        // An initiation from the fuzzed device's peer, made by a device holding the peer's key.
        using var peer = new Device(new InMemoryTun("seed0"), new InMemoryNetwork().CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:0"))));
        peer.SetPrivateKey(FuzzKeys.Remote);
        var toFuzzed = peer.AddPeer(FuzzKeys.LocalPublic);
        var initiation = new byte[MessageLayout.InitiationSize];
        if (!peer.CreateInitiation(toFuzzed, initiation))
        {
            throw new InvalidOperationException("could not create a seed initiation");
        }

        Write(dir, "initiation", initiation);
        var wrongStatic = initiation.ToArray();
        wrongStatic[MessageLayout.InitStatic] ^= 1;
        Write(dir, "initiation-bad-static", wrongStatic);
        Write(dir, "initiation-cut", Cut(initiation, 100));
        var response = new byte[MessageLayout.ResponseSize];
        MessageLayout.WriteType(response, MessageType.Response);
        Write(dir, "response-unknown-receiver", response);
        var cookie = new byte[MessageLayout.CookieReplySize];
        MessageLayout.WriteType(cookie, MessageType.CookieReply);
        Write(dir, "cookie-reply", cookie);
        var keepalive = new byte[MessageLayout.KeepaliveSize];
        MessageLayout.WriteType(keepalive, MessageType.Transport);
        Write(dir, "transport-keepalive-forged", keepalive);
        var data = new byte[MessageLayout.TransportMinSize + 64];
        MessageLayout.WriteType(data, MessageType.Transport);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(MessageLayout.TransportCounter), 1UL << 60);
        Write(dir, "transport-data-forged", data);
        var unknown = keepalive.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(unknown.AsSpan(MessageLayout.TransportReceiver), uint.MaxValue);
        Write(dir, "transport-unknown-receiver", unknown);
        Write(dir, "transport-short", Cut(keepalive, 20));
        Write(dir, "bad-type", [5, 0, 0, 0, 1, 2, 3, 4]);
    }
}
