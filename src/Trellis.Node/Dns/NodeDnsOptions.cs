using System.Net;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>Where the daemon's resolver listens and which file is the host's resolver configuration.</summary>
public sealed record NodeDnsOptions
{
    public string ResolvConfPath { get; init; } = "/etc/resolv.conf";

    public IReadOnlyList<IPAddress> ListenAddresses { get; init; } = MeshResolverAddress.All;

    public int Port { get; init; } = MeshResolverAddress.Port;
}
