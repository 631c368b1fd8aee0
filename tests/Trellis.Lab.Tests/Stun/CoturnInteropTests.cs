using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Trellis.Lab.Tests.Netcheck;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Stun;

/// <summary>
/// Trellis's STUN against coturn's, both ways: coturn's client asks `trellis stun`, and `trellis
/// netcheck` asks coturn's server, each from behind a lab router so the answer is the router's address.
/// </summary>
public sealed partial class CoturnInteropTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-coturn-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Coturns_client_is_told_its_public_address_by_trellis_stun_over_IPv4_and_IPv6()
    {
        await using var stun = await StunLab.StartAsync(output, "turnutils_stunclient");
        var router = await stun.Lab.AddRouterAsync(NatKind.Easy, new NatRouterOptions { IPv6 = true });
        var host = await router.AddHostAsync();

        var v4 = await StunClientAsync(host, stun.ServerA.IPv4!.Address);
        var v6 = await StunClientAsync(host, stun.ServerA.IPv6!.Address);

        Assert.Equal(router.PublicIPv4, v4.Address);
        Assert.Equal(host.IPv6!.Address, v6.Address);
    }

    [Fact]
    public async Task Trellis_netcheck_reads_its_public_address_from_coturns_server()
    {
        await using var stun = await StunLab.StartAsync(output, "turnserver", "ss");
        var coturn = await stun.Lab.AddPublicHostAsync();
        var server = coturn.Namespace.StartProcess("turnserver", TurnServerArguments(coturn));
        try
        {
            await WaitForUdpListenerAsync(coturn, StunLab.StunPort);
            var router = await stun.Lab.AddRouterAsync(NatKind.Easy, new NatRouterOptions { IPv6 = true });
            var host = await router.AddHostAsync();

            var report = await stun.NetcheckAsync(host, "--stun", coturn.IPv4!.Endpoint(StunLab.StunPort), "--stun", coturn.IPv6!.Endpoint(StunLab.StunPort));

            Assert.True(report.UdpV4);
            Assert.True(report.UdpV6);
            Assert.Equal(router.PublicIPv4, StunLab.AddressOf(report.GlobalV4));
            Assert.Equal(host.IPv6!.Address, StunLab.AddressOf(report.GlobalV6));
        }
        finally
        {
            await server.StopAsync();
            output.WriteLine($"--- turnserver ---\n{server.Output.TrimEnd()}");
        }
    }

    /// <summary>
    /// STUN only, no configuration file (-n), no authentication, plain UDP/TCP on the host's two
    /// addresses, logging to stdout, and its pid file and SQLite database in a directory of the test's
    /// own rather than /var.
    /// </summary>
    private string[] TurnServerArguments(NatHost host) =>
    [
        "-n", "--stun-only", "--no-auth", "--no-cli", "--no-tls", "--no-dtls", "--no-rfc5780",
        "--listening-ip", host.IPv4!.Address.ToString(), "--listening-ip", host.IPv6!.Address.ToString(),
        "--listening-port", StunLab.StunPort.ToString(CultureInfo.InvariantCulture),
        "--log-file", "stdout", "--simple-log",
        "--pidfile", Path.Combine(_directory, "turnserver.pid"), "--db", Path.Combine(_directory, "turndb"),
    ];

    private async Task<IPEndPoint> StunClientAsync(NatHost host, IPAddress server)
    {
        var result = await host.Namespace.ExecAsync(
            "turnutils_stunclient",
            ["-p", StunLab.StunPort.ToString(CultureInfo.InvariantCulture), server.ToString()],
            new CommandOptions { Timeout = TimeSpan.FromSeconds(20) });
        output.WriteLine(result.ToString());
        var match = ReflexiveAddress().Match(result.StandardOutput);
        Assert.True(match.Success, $"no reflexive address in: {result}");
        return IPEndPoint.Parse(match.Groups[1].Value.Contains(':', StringComparison.Ordinal) && match.Groups[1].Value.Count(c => c == ':') > 1
            ? BracketIPv6(match.Groups[1].Value)
            : match.Groups[1].Value);
    }

    /// <summary>turnutils_stunclient prints IPv6 as addr:port without brackets: the port is after the last colon.</summary>
    private static string BracketIPv6(string text)
    {
        var colon = text.LastIndexOf(':');
        return $"[{text[..colon]}]{text[colon..]}";
    }

    private static Task WaitForUdpListenerAsync(NatHost host, int port) =>
        Poll.UntilAsync(
            async ct => (await host.Namespace.ExecAsync("ss", ["-Hulnp"], CommandOptions.Default, ct)).StandardOutput
                .Contains(string.Create(CultureInfo.InvariantCulture, $":{port} "), StringComparison.Ordinal),
            StunLab.StartTimeout,
            $"a UDP listener on port {port} in {host}");

    [GeneratedRegex(@"UDP reflexive addr: (\S+)")]
    private static partial Regex ReflexiveAddress();
}
