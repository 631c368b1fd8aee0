using System.CommandLine;
using System.Runtime.InteropServices;
using Trellis.Core.Time;
using Trellis.Core.Transport;
using Trellis.Net;
using Trellis.WireGuard;
using Trellis.WireGuard.Uapi;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis wireguard IFNAME`: a plain WireGuard device, configured by the stock `wg` tool through
/// /var/run/wireguard/IFNAME.sock exactly like wireguard-go.
/// </summary>
internal static class WireGuardVerb
{
    public static Command Build()
    {
        var name = new Argument<string>("IFNAME") { Description = "Name of the TUN interface to create (at most 15 characters)." };
        var mtu = new Option<int>("--mtu") { Description = "MTU of the interface.", DefaultValueFactory = _ => Constants.DefaultMtu };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground (the default; accepted for wireguard-go compatibility)." };
        var noOffload = new Option<bool>("--no-offload") { Description = $"Open the TUN without checksum and segmentation offloads and the UDP socket without GSO/GRO (also ${OffloadSwitch.Variable}=0)." };
        var command = new Command("wireguard", "Run a WireGuard interface driven by wg(8), a drop-in for wireguard-go.")
        {
            name, mtu, foreground, noOffload,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(name), parse.GetValue(mtu), !parse.GetValue(noOffload) && OffloadSwitch.FromEnvironment(), parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string ifname, int mtu, bool offload, TextWriter error)
    {
        try
        {
            InterfaceName.Validate(ifname, "IFNAME");
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"trellis wireguard: {e.Message}");
            return CommandLine.UsageError;
        }

        if (mtu is < LinuxTun.MinMtu or > LinuxTun.MaxMtu)
        {
            error.WriteLine($"trellis wireguard: --mtu must be between {LinuxTun.MinMtu} and {LinuxTun.MaxMtu}");
            return CommandLine.UsageError;
        }

        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        LinuxTun? tun = null;
        Device? device = null;
        UapiServer? uapi = null;
        try
        {
            tun = LinuxTun.Create(ifname, mtu, offload);
            var bind = new UdpBind(offload: offload && OffloadSwitch.UdpFromEnvironment());
            bind.SegmentationRefused += ReportRefusal;
            device = new Device(tun, bind, time: ScaledTimeProvider.FromEnvironment());
            Exception? failure = null;
            device.Failed += e =>
            {
                failure = e;
                stop.Set();
            };
            uapi = new UapiServer(device, tun.Name);
            device.Up();
            Console.Out.WriteLine($"trellis wireguard: {tun.Name} is up; configure it with wg(8) (socket {uapi.SocketPath}); offloads: {tun.Offloads}; {Describe(bind)}");
            Console.Out.Flush();
            stop.Wait();
            if (failure is not null)
            {
                error.WriteLine($"trellis wireguard: {failure.Message}; shutting down");
                return CommandLine.Failure;
            }

            return CommandLine.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            error.WriteLine($"trellis wireguard: {e.Message}");
            return CommandLine.Failure;
        }
        finally
        {
            uapi?.Dispose();
            device?.Dispose();
            tun?.Dispose();
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }
    }

    /// <summary>The fall-back from UDP segmentation, said once per reason, as the start-up line said it was on (the lab checks it).</summary>
    private static void ReportRefusal(int errno)
    {
        Console.Out.WriteLine($"trellis wireguard: {UdpBind.DescribeRefusal(errno)}");
        Console.Out.Flush();
    }

    /// <summary>What the UDP socket got from the kernel, for the start-up line (the lab checks it).</summary>
    private static string Describe(UdpBind bind) =>
        $"UDP segmentation: {(bind.Segmentation ? "on" : "off")}, receive coalescing: {(bind.ReceiveCoalescing ? "on" : "off")}";
}
