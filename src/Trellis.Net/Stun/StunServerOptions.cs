using System.Net;

namespace Trellis.Net.Stun;

/// <summary>Where a <see cref="StunServer"/> listens and how it names itself.</summary>
public sealed record StunServerOptions
{
    /// <summary>UDP port; 0 takes any free one (see <see cref="StunServer.Port"/>).</summary>
    public int Port { get; init; } = StunServer.DefaultPort;

    /// <summary>The address to bind; null binds every address of both families on one dual-stack socket.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The SOFTWARE attribute of every answer; null or empty leaves it out.</summary>
    public string? Software { get; init; } = "trellis";
}
