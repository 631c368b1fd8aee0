using Trellis.Fuzz.Targets;

namespace Trellis.Fuzz;

/// <summary>Every parser that reads bytes from the network or a local client, one target each.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("wireguard", "Device receive path (demultiplexing, handshake and transport messages)", WireGuardTarget.Run),
        new("uapi", "UAPI set requests (UapiLineReader, UapiProtocol.ApplySet) and the get answer", UapiTarget.Run),
        new("stun", "StunMessage.TryParse", StunTarget.Run),
        new("disco", "DiscoSealer.TryOpen and DiscoCodec.TryReadInner", DiscoTarget.Run),
        new("relay-frames", "relay FrameReader and FrameCodec.TryParse*", RelayFramesTarget.Run),
        new("relay-handshake", "relay ServerKey, sealed ClientInfo/ServerInfo and their JSON", RelayHandshakeTarget.Run),
        new("control-framing", "MessageFramer.AddRaw (length-prefixed stream in chunks)", ControlFramingTarget.Run),
        new("control-json", "MessageFramer.Decode and the RelayMap JSON (source-generated)", ControlJsonTarget.Run),
        new("pcp", "PcpPacket.TryParseMapResponse and IsUnsupportedVersion", PcpTarget.Run),
        new("natpmp", "NatPmpPacket.TryParse*Response", NatPmpTarget.Run),
        new("ssdp", "SsdpSearch.TryParseResponse", SsdpTarget.Run),
        new("upnp-description", "UpnpDescription.TryFindService", UpnpDescriptionTarget.Run),
        new("upnp-soap", "UpnpSoap.TryParseResponse", UpnpSoapTarget.Run),
        new("dns-query", "the DNS library's DnsMessage.Parse and the mesh resolver's MeshAnswers.TryAnswer", DnsQueryTarget.Run),
        new("packet-filter", "StatefulPacketFilter.Allows and RecordOutbound (IPv4/IPv6 headers, extension headers, transport headers; no allocation)", PacketFilterTarget.Run),
    ];

    /// <summary>The target named <paramref name="name"/>, or null.</summary>
    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
