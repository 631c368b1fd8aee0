using System.Net;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>How the host's own resolver is pointed at the mesh's, and put back.</summary>
internal interface IHostDns
{
    /// <summary>The nameservers the host used before Trellis changed anything (the upstreams when the map names none).</summary>
    IReadOnlyList<IPEndPoint> OriginalNameservers();

    /// <summary>Sends the base domain (and the split and search domains) to the mesh resolver; idempotent.</summary>
    void Apply(DnsConfig config);

    /// <summary>Puts back what <see cref="Apply"/> changed; nothing when it changed nothing.</summary>
    void Restore();
}
