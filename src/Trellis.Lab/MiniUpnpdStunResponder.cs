using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Trellis.Lab;

/// <summary>
/// A STUN responder on 127.0.0.1 inside a router's namespace that tells miniupnpd its WAN address is
/// public. miniupnpd 2.3 refuses to map anything when its external interface has a reserved address
/// (the lab's 198.51.100.0/24 is TEST-NET-2) and rejects such an address in ext_ip too; with
/// ext_perform_stun it instead believes a STUN server whose four answers (it sends CHANGE-REQUESTs)
/// all come back from the address asked, with its own ports. This answers every Binding request so.
/// </summary>
internal sealed partial class MiniUpnpdStunResponder : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private const uint MagicCookie = 0x2112A442;

    private readonly Socket _socket;
    private readonly IPAddress _mapped;
    private readonly Task _loop;

    private MiniUpnpdStunResponder(Socket socket, IPAddress mapped)
    {
        _socket = socket;
        _mapped = mapped;
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds on 127.0.0.1 (a free port) inside <paramref name="ns"/> and answers with <paramref name="mapped"/>.</summary>
    public static MiniUpnpdStunResponder Start(NetNamespace ns, IPAddress mapped)
    {
        var socket = OpenInNamespace(ns.Name);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return new MiniUpnpdStunResponder(socket, mapped);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>A socket belongs to the namespace of the thread that made it; a throwaway thread enters the namespace to make it.</summary>
    private static Socket OpenInNamespace(string name)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{name}");
                if (setns(handle.DangerousGetHandle().ToInt32(), CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns({name}) failed with errno {Marshal.GetLastPInvokeError()}");
                }

                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "netns " + name };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot open a socket in namespace {name}", failure);
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[1024];
        var from = new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }

            // A Binding request (type 0x0001) of at least a header: answer with XOR-MAPPED-ADDRESS.
            if (received.ReceivedBytes < 20 || buffer[0] != 0 || buffer[1] != 1)
            {
                continue;
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            var reply = new byte[32];
            BinaryPrimitives.WriteUInt16BigEndian(reply, 0x0101);
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), 12);
            buffer.AsSpan(4, 16).CopyTo(reply.AsSpan(4)); // cookie and transaction id
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(20), 0x0020);
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(22), 8);
            reply[25] = 1; // IPv4
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(26), (ushort)(source.Port ^ (MagicCookie >> 16)));
            var address = BinaryPrimitives.ReadUInt32BigEndian(_mapped.GetAddressBytes());
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(28), address ^ MagicCookie);
            try
            {
                await _socket.SendToAsync(reply, SocketFlags.None, source).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
