using System.Net;
using System.Security.Cryptography;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

/// <summary>A device on in-memory doubles, with get and set as strings.</summary>
internal sealed class UapiTestDevice : IDisposable
{
    private readonly InMemoryBind _bind;
    private readonly InMemoryTun _tun = new();

    public UapiTestDevice()
    {
        _bind = Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("10.0.0.1:0")));
        Device = new Device(_tun, _bind, new DeviceOptions { Workers = 1 });
    }

    public InMemoryNetwork Network { get; } = new();

    public Device Device { get; }

    public string Get()
    {
        using var writer = new StringWriter();
        UapiProtocol.WriteGet(Device, writer);
        return writer.ToString();
    }

    public int Set(string body) => UapiProtocol.ApplySet(Device, body);

    public static Key RandomKey() => new(RandomNumberGenerator.GetBytes(Key.Size));

    public void Dispose()
    {
        Device.Dispose();
        _bind.Dispose();
        _tun.Dispose();
    }
}
