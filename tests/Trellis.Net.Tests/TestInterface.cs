using System.Globalization;
using System.Net;

namespace Trellis.Net.Tests;

/// <summary>A uniquely named TUN device with its own /24 (and /64), so TUN tests can run in parallel.</summary>
internal sealed class TestInterface : IDisposable
{
    private static int _counter;

    public TestInterface(bool configure = true, bool? offload = null)
    {
        Privilege.RequireRoot();
        var n = Interlocked.Increment(ref _counter);
        var unique = (Environment.ProcessId & 0xffff).ToString("x4", CultureInfo.InvariantCulture);
        Name = $"trt{unique}{n:x2}";
        var subnet = ((Environment.ProcessId * 7) + n) % 250 + 1;
        Local = IPAddress.Parse($"10.99.{subnet}.1");
        Peer = IPAddress.Parse($"10.99.{subnet}.2");
        Local6 = IPAddress.Parse($"fd99:0:0:{subnet:x}::1");
        Peer6 = IPAddress.Parse($"fd99:0:0:{subnet:x}::2");
        Tun = LinuxTun.Create(Name, offload: offload);
        if (configure)
        {
            Privilege.Ip("addr", "add", $"{Local}/24", "dev", Name);
            Privilege.Ip("-6", "addr", "add", $"{Local6}/64", "dev", Name, "nodad");
            Privilege.Ip("link", "set", Name, "up");
        }
    }

    public string Name { get; }

    public LinuxTun Tun { get; }

    /// <summary>The address the kernel owns on the interface.</summary>
    public IPAddress Local { get; }

    /// <summary>An address routed into the TUN (the "other side" the test plays).</summary>
    public IPAddress Peer { get; }

    public IPAddress Local6 { get; }

    public IPAddress Peer6 { get; }

    public void Dispose() => Tun.Dispose();
}
