using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Netlink;

/// <summary>
/// Kernel parameters under /proc/sys, named as sysctl(8) names them. The net.* values are per
/// network namespace: those of the calling thread's namespace are read and written.
/// </summary>
public static class Sysctl
{
    /// <summary>IPv4 forwarding between interfaces, which a subnet router needs.</summary>
    public const string IPv4Forwarding = "net.ipv4.ip_forward";

    /// <summary>IPv6 forwarding on all interfaces (setting "all" sets every interface's own value too).</summary>
    public const string IPv6Forwarding = "net.ipv6.conf.all.forwarding";

    private const string Root = "/proc/sys/";

    public static bool IsForwardingEnabled(AddressFamily family) => Read(ForwardingName(family)) != "0";

    public static void SetForwarding(AddressFamily family, bool enabled) => Write(ForwardingName(family), enabled ? "1" : "0");

    /// <summary>The value without its trailing newline.</summary>
    public static string Read(string name)
    {
        var path = PathOf(name);
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"read sysctl {name} ({path}): {e.Message}", e);
        }
    }

    public static void Write(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var path = PathOf(name);
        try
        {
            // FileMode.Open: a sysctl is never created, and truncation means nothing to it.
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            file.Write(Encoding.ASCII.GetBytes(value + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var hint = e is UnauthorizedAccessException ? "; writing sysctls needs root" : "";
            throw new IOException($"write sysctl {name} = {value} ({path}): {e.Message}{hint}", e);
        }
    }

    /// <summary>
    /// "net.ipv4.ip_forward" becomes /proc/sys/net/ipv4/ip_forward. As in sysctl(8), a name with a
    /// '/' is taken as a path under /proc/sys, so interface names with dots can be spelled out.
    /// </summary>
    private static string PathOf(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var relative = name.Contains('/', StringComparison.Ordinal) ? name : name.Replace('.', '/');
        if (relative.StartsWith('/') || relative.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"\"{name}\" is not a sysctl name", nameof(name));
        }

        return Root + relative;
    }

    private static string ForwardingName(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => IPv4Forwarding,
        AddressFamily.InterNetworkV6 => IPv6Forwarding,
        _ => throw new ArgumentException($"forwarding is for IPv4 or IPv6, not {family}", nameof(family)),
    };
}
