namespace Trellis.Net.PortMapping;

/// <summary>Which gateway protocol made a <see cref="PortMapping"/>.</summary>
public enum PortMappingProtocol
{
    /// <summary>NAT Port Mapping Protocol, RFC 6886 (version 0).</summary>
    NatPmp,

    /// <summary>Port Control Protocol, RFC 6887 (version 2).</summary>
    Pcp,

    /// <summary>UPnP Internet Gateway Device, WANIPConnection or WANPPPConnection AddPortMapping.</summary>
    Upnp,
}
