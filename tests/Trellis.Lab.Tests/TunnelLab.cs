using System.Net;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// The two-namespace topology of the kernel's netns.sh: A and B joined by a veth (10.0.0.1-2/24 and
/// fd10::1-2/64), a WireGuard device in each (inner 192.168.241.1-2/24 and fd00::1-2/64), each side's
/// peer set to the other with its endpoint on the chosen underlay and no persistent keepalive, so
/// whichever side sends first is the handshake initiator.
/// </summary>
public sealed class TunnelLab : IAsyncDisposable
{
    public const int ListenPortA = 51820;
    public const int ListenPortB = 51821;

    /// <summary>How long the first packet may take (handshake included, on a loaded 2-core machine).</summary>
    public static readonly TimeSpan EstablishTimeout = TimeSpan.FromSeconds(15);

    public static readonly LabAddress InnerIPv4A = LabAddress.Parse("192.168.241.1/24");
    public static readonly LabAddress InnerIPv4B = LabAddress.Parse("192.168.241.2/24");
    public static readonly LabAddress InnerIPv6A = LabAddress.Parse("fd00::1/64");
    public static readonly LabAddress InnerIPv6B = LabAddress.Parse("fd00::2/64");

    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    private readonly ITestOutputHelper _output;
    private readonly List<IAsyncDisposable> _resources;

    private TunnelLab(ITestOutputHelper output, Underlay underlay, TunnelEnd a, TunnelEnd b, List<IAsyncDisposable> resources)
    {
        _output = output;
        Underlay = underlay;
        A = a;
        B = b;
        _resources = resources;
    }

    public Underlay Underlay { get; }

    public TunnelEnd A { get; }

    public TunnelEnd B { get; }

    public TunnelEnd this[Side side] => side == Side.A ? A : B;

    public TunnelEnd PeerOf(TunnelEnd end) => ReferenceEquals(end, A) ? B : A;

    /// <param name="clockRate">TRELLIS_TEST_CLOCK_RATE for the Trellis sides (wireguard-go has none).</param>
    /// <param name="wrongKeyForBOnA">Configure A with a random public key for B instead of B's.</param>
    /// <param name="offload">False starts the Trellis sides with TUN offloads off.</param>
    public static async Task<TunnelLab> StartAsync(
        Implementation a,
        Implementation b,
        ITestOutputHelper output,
        Underlay underlay = Underlay.IPv4,
        int? clockRate = null,
        bool wrongKeyForBOnA = false,
        bool offload = true)
    {
        LabRequirements.EnsureAvailable();
        await LeftoversDeleted.Value;

        var resources = new List<IAsyncDisposable>();
        try
        {
            var nsA = await NetNamespace.CreateAsync();
            resources.Add(nsA);
            var nsB = await NetNamespace.CreateAsync();
            resources.Add(nsB);
            var link = await VethLink.CreateAsync(nsA, nsB);
            resources.Add(link);

            var keyTasks = new[] { WireGuardKeyPair.GenerateAsync(), WireGuardKeyPair.GenerateAsync(), WireGuardKeyPair.GenerateAsync() };
            var options = new WireGuardStartOptions { ClockRate = clockRate, Offload = offload };
            var deviceA = WireGuardInterface.StartAsync(nsA, a, options);
            var deviceB = WireGuardInterface.StartAsync(nsB, b, options);
            await AwaitBothAsync(deviceA, deviceB, resources);
            var keys = await Task.WhenAll(keyTasks);

            var endA = new TunnelEnd(Side.A, nsA, link.Left, deviceA.Result, keys[0], ListenPortA, InnerIPv4A, InnerIPv6A);
            var endB = new TunnelEnd(Side.B, nsB, link.Right, deviceB.Result, keys[1], ListenPortB, InnerIPv4B, InnerIPv6B);
            await ConfigureAsync(endA, endB, underlay, wrongKeyForBOnA ? keys[2].PublicKey : null);
            await ConfigureAsync(endB, endA, underlay, null);

            output.WriteLine($"lab: A={endA.Device} B={endB.Device} underlay={underlay}");
            return new TunnelLab(output, underlay, endA, endB, resources);
        }
        catch
        {
            await DisposeAllAsync(resources, output);
            throw;
        }
    }

    /// <summary>Waits until <paramref name="from"/> gets a ping reply from the other side's inner address.</summary>
    public Task<PingResult> EstablishAsync(TunnelEnd from, bool ipv6 = false, IPAddress? source = null) =>
        Pinger.WaitForReplyAsync(from.Namespace, PeerOf(from).Inner(ipv6), EstablishTimeout, source);

    /// <summary>Waits for a first reply, then requires a short run of pings (-c 3) to be answered in full.</summary>
    /// <param name="explicitSource">Ping from <paramref name="from"/>'s own inner address (-I), whatever else is configured.</param>
    public async Task AssertPingsAsync(TunnelEnd from, bool ipv6, bool explicitSource = false)
    {
        var source = explicitSource ? from.Inner(ipv6) : null;
        await EstablishAsync(from, ipv6, source);
        var result = await Pinger.PingAsync(from.Namespace, PeerOf(from).Inner(ipv6), count: 3, source: source, waitForEach: true);
        Assert.True(result.AllReceived, $"{from} -> {PeerOf(from)} over inner {(ipv6 ? "IPv6" : "IPv4")}: {result}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var end in (TunnelEnd[])[A, B])
        {
            var log = end.Device.Process.Output;
            if (!string.IsNullOrWhiteSpace(log))
            {
                _output.WriteLine($"--- {end} daemon output (tail) ---");
                _output.WriteLine(log.Length > 4000 ? log[^4000..] : log);
            }
        }

        await DisposeAllAsync([A.Device, B.Device, .. _resources], _output);
    }

    private static async Task ConfigureAsync(TunnelEnd self, TunnelEnd peer, Underlay underlay, string? peerPublicKeyOverride)
    {
        var peerConfig = new WireGuardPeerConfig(peerPublicKeyOverride ?? peer.Keys.PublicKey)
        {
            AllowedIps = peer.AllowedIps,
            Endpoint = peer.Endpoint(underlay),
        };
        await self.Device.ConfigureAsync(self.Keys.PrivateKey, self.ListenPort, [peerConfig]);
        await self.Device.AddAddressAsync(self.InnerIPv4);
        await self.Device.AddAddressAsync(self.InnerIPv6);
        await self.Device.SetUpAsync();
    }

    private static async Task AwaitBothAsync(Task<WireGuardInterface> a, Task<WireGuardInterface> b, List<IAsyncDisposable> resources)
    {
        try
        {
            await Task.WhenAll(a, b);
        }
        finally
        {
            // Whichever started must be stopped even if the other failed.
            foreach (var task in (Task<WireGuardInterface>[])[a, b])
            {
                if (task.IsCompletedSuccessfully)
                {
                    resources.Insert(0, task.Result);
                }
            }
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<IAsyncDisposable> resources, ITestOutputHelper output)
    {
        // Devices first, then links, then namespaces (the order they were added, reversed for the rest).
        var ordered = resources.Distinct().ToList();
        var devices = ordered.OfType<WireGuardInterface>().ToList();
        var rest = ordered.Except(devices).Reverse().ToList();
        foreach (var resource in devices.Cast<IAsyncDisposable>().Concat(rest))
        {
            try
            {
                await resource.DisposeAsync();
            }
            catch (Exception e) when (e is LabCommandException or InvalidOperationException or IOException)
            {
                output.WriteLine($"cleanup of {resource} failed: {e.Message}");
            }
        }
    }
}
