namespace Trellis.Lab;

/// <summary>What the namespace lab needs from the machine: root, /dev/net/tun and some tools.</summary>
public static class LabRequirements
{
    /// <summary>The tools the WireGuard interop lab runs.</summary>
    public static readonly IReadOnlyList<string> WireGuardLabTools = ["ip", "wg", "wireguard-go", "ping", "iperf3", "ss"];

    /// <summary>Everything missing, one sentence each; empty when the lab can run.</summary>
    public static IReadOnlyList<string> FindProblems(IEnumerable<string> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var problems = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            problems.Add("the lab needs Linux network namespaces");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            problems.Add("the lab must run as root (it creates network namespaces, veth pairs and TUN devices)");
        }

        if (!File.Exists("/dev/net/tun"))
        {
            problems.Add("/dev/net/tun is missing (load the tun module, or give the container the device)");
        }

        foreach (var tool in tools)
        {
            if (FindInPath(tool) is null)
            {
                problems.Add($"'{tool}' is not on PATH");
            }
        }

        return problems;
    }

    /// <summary>Throws <see cref="LabUnavailableException"/> listing every problem, so a lab test fails with the reason.</summary>
    public static void EnsureAvailable(IEnumerable<string>? tools = null)
    {
        var problems = FindProblems(tools ?? WireGuardLabTools);
        if (problems.Count > 0)
        {
            throw new LabUnavailableException(
                "the namespace lab cannot run on this machine: " + string.Join("; ", problems) +
                ". These tests fail rather than skip so that a CI without them is noticed.");
        }
    }

    public static string? FindInPath(string tool)
    {
        ArgumentException.ThrowIfNullOrEmpty(tool);
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate)
                && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
