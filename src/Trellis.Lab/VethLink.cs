using System.Security.Cryptography;

namespace Trellis.Lab;

/// <summary>
/// A veth pair joining two namespaces, each end up with one IPv4 and one IPv6 address (IPv6 added
/// with <c>nodad</c> so it is usable at once). Deleting either end deletes the pair.
/// </summary>
public sealed class VethLink : IAsyncDisposable
{
    public static readonly LabAddress DefaultLeftIPv4 = LabAddress.Parse("10.0.0.1/24");
    public static readonly LabAddress DefaultRightIPv4 = LabAddress.Parse("10.0.0.2/24");
    public static readonly LabAddress DefaultLeftIPv6 = LabAddress.Parse("fd10::1/64");
    public static readonly LabAddress DefaultRightIPv6 = LabAddress.Parse("fd10::2/64");

    private VethLink(VethEnd left, VethEnd right)
    {
        Left = left;
        Right = right;
    }

    public VethEnd Left { get; }

    public VethEnd Right { get; }

    /// <summary>
    /// Creates the pair with the given addresses (defaults: 10.0.0.1/24 and fd10::1/64 on the left,
    /// 10.0.0.2/24 and fd10::2/64 on the right) and brings both ends up.
    /// </summary>
    public static async Task<VethLink> CreateAsync(
        NetNamespace left,
        NetNamespace right,
        LabAddress? leftIPv4 = null,
        LabAddress? leftIPv6 = null,
        LabAddress? rightIPv4 = null,
        LabAddress? rightIPv6 = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);

        // Unique names (interface names are at most 15 bytes) so nothing clashes while the kernel moves them.
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var leftEnd = new VethEnd(left, $"v{id}l", leftIPv4 ?? DefaultLeftIPv4, leftIPv6 ?? DefaultLeftIPv6);
        var rightEnd = new VethEnd(right, $"v{id}r", rightIPv4 ?? DefaultRightIPv4, rightIPv6 ?? DefaultRightIPv6);
        (await HostCommand.RunAsync(
            "ip",
            ["link", "add", leftEnd.InterfaceName, "netns", left.Name, "type", "veth", "peer", "name", rightEnd.InterfaceName, "netns", right.Name],
            CommandOptions.Default,
            cancellationToken).ConfigureAwait(false)).EnsureSuccess();

        var link = new VethLink(leftEnd, rightEnd);
        try
        {
            foreach (var end in (VethEnd[])[leftEnd, rightEnd])
            {
                await end.AddAddressAsync(end.IPv4, cancellationToken).ConfigureAwait(false);
                await end.AddAddressAsync(end.IPv6, cancellationToken).ConfigureAwait(false);
                await end.Namespace.IpAsync(cancellationToken, "link", "set", end.InterfaceName, "up").ConfigureAwait(false);
            }
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return link;
    }

    public async ValueTask DisposeAsync()
    {
        // Gone already if a namespace was deleted first; the result does not matter.
        await HostCommand.RunAsync("ip", ["-n", Left.Namespace.Name, "link", "del", Left.InterfaceName], CommandOptions.Default)
            .ConfigureAwait(false);
    }
}
