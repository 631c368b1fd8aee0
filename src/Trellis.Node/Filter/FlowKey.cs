namespace Trellis.Node.Filter;

/// <summary>
/// One flow as this host sees it: its own address and port (or ICMP echo identifier) and the far
/// end's. The key of a packet sent and that of its reply are equal, which is how a reply is recognised.
/// </summary>
internal readonly record struct FlowKey(bool IsV6, byte Protocol, UInt128 Local, UInt128 Remote, ushort LocalPort, ushort RemotePort);
