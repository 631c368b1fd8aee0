using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Lab.Tests.PortMapping;

/// <summary>What the port-mapping lab tests share: a lab to map in, sockets, and the check that a hole really lets traffic in.</summary>
internal static class MappedHole
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    public static async Task<NatLab> CreateLabAsync(params string[] extraTools)
    {
        LabRequirements.EnsureAvailable([.. NatLab.RequiredTools, .. extraTools]);
        await LeftoversDeleted.Value;
        return await NatLab.CreateAsync();
    }

    /// <summary>A UDP socket bound to <paramref name="port"/>, in the namespace of the calling thread.</summary>
    public static Socket Bound(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        return socket;
    }

    /// <summary>Sends every 200 ms (a datagram may race the rules settling) until the listener gets one.</summary>
    public static async Task<(string Text, IPEndPoint From)> ReceiveWhileSendingAsync(Socket listener, Socket sender, IPEndPoint to, string text)
    {
        using var deadline = new CancellationTokenSource(Patience);
        var buffer = new byte[1500];
        var receive = listener.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token).AsTask();
        while (!receive.IsCompleted)
        {
            await sender.SendToAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, to, deadline.Token);
            await Task.WhenAny(receive, Task.Delay(200, deadline.Token));
        }

        var result = await receive;
        return (Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }
}
