using System.Globalization;
using System.Net;

namespace Trellis.Lab;

/// <summary>
/// miniupnpd (Debian's miniupnpd-nftables, 2.3) on a <see cref="NatRouter"/>: NAT-PMP, PCP and UPnP
/// IGD (SSDP on 1900, HTTP on a fixed port) on the LAN. Its config lives in a temporary directory; it runs in the foreground (-d) as a
/// <see cref="LabProcess"/> of the router's namespace, so the namespace stops it, and the directory
/// and the STUN responder it needs (<see cref="MiniUpnpdStunResponder"/>) go when it exits.
/// </summary>
internal static class MiniUpnpd
{
    public const string Program = "miniupnpd";

    // A safety net only (see LabControlServer.StartTimeout).
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The UPnP HTTP port (descriptions and SOAP control); fixed so a test can look at it.</summary>
    public const int HttpPort = 5000;

    /// <summary>Lines miniupnpd logs once it can map: STUN accepted the address, and the NAT-PMP/PCP socket is open (after the UPnP ones).</summary>
    private const string Enabled = "Port forwarding is now enabled";
    private const string Listening = "Listening for NAT-PMP/PCP traffic";

    public static async Task<LabProcess> StartAsync(NetNamespace ns, IPAddress wanAddress, LabAddress lan, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("trellis-miniupnpd-");
        var stun = MiniUpnpdStunResponder.Start(ns, wanAddress);
        LabProcess? process = null;
        try
        {
            var config = Path.Combine(directory.FullName, "miniupnpd.conf");
            await File.WriteAllTextAsync(config, Config(stun.LocalEndPoint, lan, directory.FullName), cancellationToken).ConfigureAwait(false);
            process = ns.StartProcess(Program, ["-f", config, "-d"]);
            var started = process;
            _ = CleanUpAfterExitAsync(started, stun, directory);
            await Poll.UntilAsync(
                () => started.HasExited || (started.Output.Contains(Enabled, StringComparison.Ordinal) && started.Output.Contains(Listening, StringComparison.Ordinal)),
                StartTimeout,
                $"miniupnpd in {ns.Name} to start",
                cancellationToken).ConfigureAwait(false);
            return started.HasExited
                ? throw new LabCommandException($"miniupnpd in {ns.Name} exited with {started.ExitCode}:\n{started.Output}")
                : started;
        }
        catch (Exception e) when (process is null || e is TimeoutException)
        {
            if (process is null)
            {
                stun.Dispose();
                directory.Delete(recursive: true);
            }
            else
            {
                await process.StopAsync().ConfigureAwait(false); // the cleanup task then runs
                throw new LabCommandException($"miniupnpd in {ns.Name} did not start:\n{process.Output}", e);
            }

            throw;
        }
    }

    /// <summary>
    /// The config: LAN-side listener, WAN-side rules, any LAN host may map ports 1024-65535 (UPnP's
    /// secure_mode is off; NAT-PMP and PCP map the requester's own address anyway), nftables chains
    /// matching <see cref="NatRules"/>, and the STUN detour around the reserved-address check.
    /// </summary>
    internal static string Config(IPEndPoint stun, LabAddress lan, string directory)
    {
        var prefix = NatSegment.Host(lan, 0);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"""
            ext_ifname={NatRouter.WanInterface}
            listening_ip={NatRouter.LanInterface}
            enable_natpmp=yes
            enable_upnp=yes
            http_port={HttpPort}
            secure_mode=no
            system_uptime=yes
            lease_file={Path.Combine(directory, "leases")}
            uuid={Guid.NewGuid()}
            ext_perform_stun=yes
            ext_stun_host={stun.Address}
            ext_stun_port={stun.Port}
            upnp_table_name={NatRules.FilterTable}
            upnp_forward_chain={NatRules.UpnpForwardChain}
            upnp_nat_table_name={NatRules.UpnpNatTable}
            upnp_nat_chain={NatRules.UpnpPreroutingChain}
            upnp_nat_postrouting_chain={NatRules.UpnpPostroutingChain}
            allow 1024-65535 {prefix} 1024-65535
            deny 0-65535 0.0.0.0/0 0-65535

            """);
    }

    private static async Task CleanUpAfterExitAsync(LabProcess process, MiniUpnpdStunResponder stun, DirectoryInfo directory)
    {
        try
        {
            await process.WaitForExitAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // Disposed before we looked: it has exited either way.
        }

        stun.Dispose();
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }
}
