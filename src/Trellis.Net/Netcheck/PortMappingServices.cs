namespace Trellis.Net.Netcheck;

/// <summary>Which port-mapping protocols the default gateway answered.</summary>
public sealed record PortMappingServices(bool NatPmp, bool Pcp, bool Upnp)
{
    public static PortMappingServices None { get; } = new(false, false, false);
}
