namespace Trellis.Control.Admin;

/// <summary>A plain WireGuard peer and its wg-quick configuration (with a private key only in the answer that created it).</summary>
public sealed record WireGuardConfigDto(NodeDto Node, string Config);
