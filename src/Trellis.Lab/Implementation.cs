namespace Trellis.Lab;

/// <summary>Which userspace WireGuard a lab interface runs.</summary>
public enum Implementation
{
    /// <summary>The reference: <c>wireguard-go -f IFNAME</c>.</summary>
    WireGuardGo,

    /// <summary>Ours: <c>trellis wireguard IFNAME</c>.</summary>
    Trellis,
}
