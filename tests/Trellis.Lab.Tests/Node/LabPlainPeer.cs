using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A device with nothing but Debian's WireGuard tools: `wg-quick up` with wireguard-go, on the
/// configuration exactly as Trellis printed it. wg-quick hands a DNS= line to resolvconf, which the
/// lab machines lack (and which would rewrite the machine's own resolv.conf); a stand-in on PATH
/// writes it to the namespace's own resolv.conf, which `ip netns exec` shows as /etc/resolv.conf.
/// </summary>
public sealed partial class LabPlainPeer : IAsyncDisposable
{
    private const string ResolvconfStandIn = """
        #!/bin/sh
        # wg-quick's resolvconf calls: -a IFACE (configuration on stdin) or -d IFACE.
        case "$1" in
          -a) cat > /etc/resolv.conf ;;
        esac
        exit 0
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-plainpeer-").FullName;
    private bool _up;

    private LabPlainPeer(NatHost host, string config)
    {
        Host = host;
        Config = config;

        // Unique on the machine: wireguard-go's socket lives in the shared /var/run/wireguard.
        Interface = "tp" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        ConfigPath = Path.Combine(_directory, Interface + ".conf");
        var addresses = AddressLine().Match(config);
        Assert.True(addresses.Success, $"no Address line in the configuration:\n{config}");
        IPv4 = addresses.Groups[1].Value;
        IPv6 = addresses.Groups[2].Value;
    }

    public NatHost Host { get; }

    public string Config { get; }

    public string Interface { get; }

    public string ConfigPath { get; }

    public string IPv4 { get; }

    public string IPv6 { get; }

    /// <summary>Writes the configuration where wg-quick reads it (mode 0600, as wg-quick wants).</summary>
    public static LabPlainPeer Create(NatHost host, string config)
    {
        var peer = new LabPlainPeer(host, config);
        File.WriteAllText(peer.ConfigPath, config);
        File.SetUnixFileMode(peer.ConfigPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var standIn = Path.Combine(peer._directory, "resolvconf");
        File.WriteAllText(standIn, ResolvconfStandIn.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return peer;
    }

    public Task<CommandResult> WgQuickAsync(params string[] arguments) =>
        Host.Namespace.ExecAsync("wg-quick", arguments, new CommandOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["WG_QUICK_USERSPACE_IMPLEMENTATION"] = "wireguard-go",
                ["PATH"] = _directory + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin"),
            },
        });

    public async Task UpAsync()
    {
        (await WgQuickAsync("up", ConfigPath)).EnsureSuccess();
        _up = true;
    }

    public async Task<bool> PingAsync(string address)
    {
        var result = await Host.Namespace.ExecAsync("ping", ["-c", "1", "-W", "1", address], CommandOptions.Default);
        return result.Succeeded;
    }

    /// <summary>What the namespace's resolv.conf says now.</summary>
    public string ResolvConf() => File.ReadAllText(Host.Namespace.ResolvConfPath);

    public async ValueTask DisposeAsync()
    {
        if (_up)
        {
            await WgQuickAsync("down", ConfigPath);
        }

        Directory.Delete(_directory, recursive: true);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"plain peer {Interface} at {Host}");

    [GeneratedRegex(@"^Address = ([0-9.]+)/32, ([0-9a-f:]+)/128$", RegexOptions.Multiline)]
    private static partial Regex AddressLine();
}
