namespace Trellis.Lab.Tests;

/// <summary>One of the two WireGuard ends of a <see cref="TunnelLab"/>.</summary>
public enum Side
{
    A,
    B,
}
