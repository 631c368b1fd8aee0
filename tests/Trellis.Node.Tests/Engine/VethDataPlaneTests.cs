using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>
/// The whole data plane for real: two namespaces joined by a veth pair, an engine in each with a real
/// TUN, UDP socket, routes and addresses, and a hand-made map each. A UDP datagram sent from one
/// overlay address arrives at the other through the kernel, the TUN, WireGuard and the veth.
/// </summary>
public sealed class VethDataPlaneTests : IDisposable
{
    private const int AppPort = 9000;
    // A safety net only (every wait on it expects something to arrive): a loaded 2-core machine can stall a thread for over 10 s.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly PrivateNamespace _a = new();
    private readonly PrivateNamespace _b = new();

    public VethDataPlaneTests()
    {
        _a.Exec("ip", "link", "add", "name", "va", "type", "veth", "peer", "name", "vb", "netns", _b.ThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Configure(_a, "va", 1);
        Configure(_b, "vb", 2);

        // The kernel brings a new link's carrier (and its queueing) up a moment later, in the
        // background; a handshake sent before then is dropped and waits for a retry.
        var deadline = DateTime.UtcNow + Patience;
        while (OperState(_a, "va") != "UP" || OperState(_b, "vb") != "UP")
        {
            Assert.True(DateTime.UtcNow < deadline, "the veth pair did not come up");
            Thread.Sleep(20); // no event for this short of `ip monitor`
        }

        static void Configure(PrivateNamespace ns, string link, int n)
        {
            ns.Exec("ip", "addr", "add", $"192.168.99.{n}/24", "dev", link);
            ns.Exec("ip", "addr", "add", $"fd99::{n}/64", "dev", link, "nodad");
            ns.Exec("ip", "link", "set", link, "up");
        }
    }

    private static string? OperState(PrivateNamespace ns, string link) =>
        ns.IpJson("link", "show", link).EnumerateArray().Single().GetProperty("operstate").GetString();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Datagrams_cross_the_overlay_between_two_namespaces(bool ipv6Underlay)
    {
        var keyA = TestMaps.NewPrivateKey();
        var keyB = TestMaps.NewPrivateKey();
        var engineA = _a.Run(() => new WireGuardEngine(new EngineOptions { PrivateKey = keyA }, new LinuxNetworkConfig()));
        var engineB = _b.Run(() => new WireGuardEngine(new EngineOptions { PrivateKey = keyB }, new LinuxNetworkConfig()));
        try
        {
            // Both report both families; a node prefers IPv6 when its own endpoints include IPv6.
            string[] Endpoints(int n) => ipv6Underlay ? [$"192.168.99.{n}:41641", $"[fd99::{n}]:41641"] : [$"192.168.99.{n}:41641"];
            var peerA = TestMaps.Peer(1, keyA, endpoints: Endpoints(1));
            var peerB = TestMaps.Peer(2, keyB, endpoints: Endpoints(2));

            // The node that waits before initiating gets its map first (see WireGuardEngine.InitiatesFirst),
            // and the initiator sends first, so one handshake serves both.
            var aFirst = WireGuardEngine.InitiatesFirst(engineA.PublicKey, engineB.PublicKey);
            var (initiator, waiter) = aFirst ? ((_a, engineA, 1), (_b, engineB, 2)) : ((_b, engineB, 2), (_a, engineA, 1));
            var maps = new Dictionary<WireGuardEngine, Trellis.Node.NetMap>
            {
                [engineA] = TestMaps.Map(peerA, peerB),
                [engineB] = TestMaps.Map(peerB, peerA),
            };
            foreach (var (ns, engine, _) in new[] { waiter, initiator })
            {
                ns.RunAsync(() => engine.ApplyAsync(maps[engine], new EngineSettings(), CancellationToken.None));
            }

            string State() => $"A: {Describe(_a, engineA)}\nB: {Describe(_b, engineB)}";
            Carry(initiator.Item1, waiter.Item1, $"100.64.0.{waiter.Item3}", "first", State);
            Carry(waiter.Item1, initiator.Item1, $"100.64.0.{initiator.Item3}", "reply", State);
            Carry(_a, _b, "fd7a:115c:a1e0::2", "over IPv6", State);

            var status = Assert.Single(engineA.Status().Peers);
            Assert.Equal("direct", status.Path);
            Assert.Equal(ipv6Underlay ? "[fd99::2]:41641" : "192.168.99.2:41641", status.Endpoint);
            Assert.True(status.RxBytes > 0 && status.TxBytes > 0);
        }
        finally
        {
            _a.RunAsync(() => engineA.DisposeAsync().AsTask());
            _b.RunAsync(() => engineB.DisposeAsync().AsTask());
        }
    }

    /// <summary>Sends a datagram from a socket in <paramref name="from"/> to a socket in <paramref name="to"/> at <paramref name="destination"/>.</summary>
    private static void Carry(PrivateNamespace from, PrivateNamespace to, string destination, string text, Func<string> state)
    {
        using var receiver = to.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
            s.Bind(new IPEndPoint(IPAddress.IPv6Any, AppPort));
            return s;
        });
        using var sender = from.Run(() => new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true });
        receiver.ReceiveTimeout = (int)Patience.TotalMilliseconds;

        sender.SendTo(Encoding.ASCII.GetBytes(text), new IPEndPoint(IPAddress.Parse(destination), AppPort));

        var buffer = new byte[100];
        int n;
        try
        {
            n = receiver.Receive(buffer);
        }
        catch (SocketException e)
        {
            Assert.Fail($"'{text}' did not arrive ({e.Message}); {state()}");
            throw;
        }

        Assert.Equal(text, Encoding.ASCII.GetString(buffer, 0, n));
    }

    /// <summary>What a failed crossing leaves to look at: the engine's view of its peer and the kernel's neighbours, addresses and routes.</summary>
    private static string Describe(PrivateNamespace ns, WireGuardEngine engine) =>
        string.Join("\n", [
            string.Join("; ", engine.Status().Peers.Select(p => $"{p.Path} {p.Endpoint} handshake {p.LastHandshake:O} rx {p.RxBytes} tx {p.TxBytes}")),
            ns.TryExec("ip", "neigh").Stdout,
            ns.TryExec("ip", "-6", "neigh").Stdout,
            ns.TryExec("ip", "addr").Stdout,
            ns.TryExec("ip", "route", "show", "table", "all").Stdout,
            ns.TryExec("ss", "-uan").Stdout,
            ns.TryExec("nstat", "-az").Stdout]);
}
