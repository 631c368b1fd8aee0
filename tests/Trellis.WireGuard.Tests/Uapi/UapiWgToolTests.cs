using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

/// <summary>
/// The real wg(8) against our server. wg finds userspace interfaces only in /var/run/wireguard, so
/// these run as root with a random name there; no network interface of that name needs to exist.
/// Without root or wg they fail (CI has both): a test that cannot fail proves nothing.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class UapiWgToolTests
{
    private const string Wg = "/usr/bin/wg";

    private static bool Available => OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess && File.Exists(Wg);

    private static string RandomName() => "trtest" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunWgAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Wg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Wg_show_and_wg_set_work_against_the_server()
    {
        Assert.True(Available, "these tests need root and /usr/bin/wg (apt-get install wireguard-tools)");

        using var device = new UapiTestDevice();
        var name = RandomName();
        using var server = new UapiServer(device.Device, name);
        Assert.Equal($"/var/run/wireguard/{name}.sock", server.SocketPath);

        var privateKey = X25519.GeneratePrivateKey();
        var publicKey = X25519.PublicKey(privateKey);
        Assert.Equal(0, device.Set($"private_key={privateKey.ToHex()}\n"));

        var (code, stdout, stderr) = await RunWgAsync("show", name, "dump");
        Assert.True(code == 0, stderr);
        Assert.Equal($"{privateKey.ToBase64()}\t{publicKey.ToBase64()}\t0\toff\n", stdout);

        var peer = UapiTestDevice.RandomKey();
        (code, _, stderr) = await RunWgAsync(
            "set", name, "listen-port", "51999", "peer", peer.ToBase64(),
            "allowed-ips", "10.9.0.0/24", "endpoint", "127.0.0.1:5555", "persistent-keepalive", "25");
        Assert.True(code == 0, stderr);

        Assert.Equal(51999, device.Device.ListenPort);
        var configured = device.Device.LookupPeer(peer);
        Assert.NotNull(configured);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("127.0.0.1:5555")), configured.Endpoint);
        Assert.Equal(25, configured.PersistentKeepaliveInterval);
        Assert.Equal(["10.9.0.0/24"], device.Device.AllowedIps.NetworksFor(configured).Select(n => n.ToString()));

        (code, stdout, stderr) = await RunWgAsync("show", name, "dump");
        Assert.True(code == 0, stderr);
        Assert.Equal(
            $"{privateKey.ToBase64()}\t{publicKey.ToBase64()}\t51999\toff\n" +
            $"{peer.ToBase64()}\t(none)\t127.0.0.1:5555\t10.9.0.0/24\t0\t0\t0\t25\n",
            stdout);

        (code, stdout, _) = await RunWgAsync("show", "interfaces");
        Assert.Equal(0, code);
        Assert.Contains(name, stdout.Split(' ', '\n'));

        (code, _, stderr) = await RunWgAsync("set", name, "peer", peer.ToBase64(), "remove");
        Assert.True(code == 0, stderr);
        Assert.Empty(device.Device.Peers);
    }

    [Fact]
    public async Task Wg_reports_the_errno_the_server_answers()
    {
        Assert.True(Available, "these tests need root and /usr/bin/wg (apt-get install wireguard-tools)");

        using var device = new UapiTestDevice();
        device.Device.Up();
        using var other = device.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("10.0.0.1:0")));
        other.Open(6000);
        var name = RandomName();
        using var server = new UapiServer(device.Device, name);

        var (code, _, stderr) = await RunWgAsync("set", name, "listen-port", "6000");
        Assert.NotEqual(0, code);
        Assert.Contains("Address already in use", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wg_setconf_replaces_the_whole_configuration()
    {
        Assert.True(Available, "these tests need root and /usr/bin/wg (apt-get install wireguard-tools)");
        using var device = new UapiTestDevice();
        var name = RandomName();
        using var server = new UapiServer(device.Device, name);
        var stale = UapiTestDevice.RandomKey();
        Assert.Equal(0, device.Set($"public_key={stale.ToHex()}\nallowed_ip=10.1.0.0/16\n"));

        var privateKey = X25519.GeneratePrivateKey();
        var first = UapiTestDevice.RandomKey();
        var second = UapiTestDevice.RandomKey();
        var psk = UapiTestDevice.RandomKey();
        var file = Path.Combine(Path.GetTempPath(), name + ".conf");
        await File.WriteAllTextAsync(file, $"""
            [Interface]
            PrivateKey = {privateKey.ToBase64()}
            ListenPort = 51888

            [Peer]
            PublicKey = {first.ToBase64()}
            PresharedKey = {psk.ToBase64()}
            AllowedIPs = 10.2.0.0/24, fd02::/64
            Endpoint = [2001:db8::7]:51820

            [Peer]
            PublicKey = {second.ToBase64()}
            AllowedIPs = 10.3.0.1/32
            PersistentKeepalive = 15
            """);
        try
        {
            var (code, _, stderr) = await RunWgAsync("setconf", name, file);
            Assert.True(code == 0, stderr);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Null(device.Device.LookupPeer(stale));
        Assert.Equal(51888, device.Device.ListenPort);
        var (showCode, stdout, showError) = await RunWgAsync("show", name, "dump");
        Assert.True(showCode == 0, showError);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Contains($"{first.ToBase64()}\t{psk.ToBase64()}\t[2001:db8::7]:51820\t10.2.0.0/24,fd02::/64\t0\t0\t0\toff", lines);
        Assert.Contains($"{second.ToBase64()}\t(none)\t(none)\t10.3.0.1/32\t0\t0\t0\t15", lines);
    }
}
