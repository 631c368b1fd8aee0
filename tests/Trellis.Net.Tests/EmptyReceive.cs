using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

/// <summary>
/// A receive on an empty socket, woken at once (<see cref="UdpBind.WakeReceiver"/>): the wait a round
/// of an allocation test takes when its datagrams come late, taken once before the measure.
/// </summary>
internal static class EmptyReceive
{
    public static void Woken(UdpBind receiver, PacketBuffer[] buffers)
    {
        receiver.WakeReceiver();
        Assert.Equal(0, receiver.Receive(buffers));
    }

    public static void Woken(IEnumerable<UdpBind> receivers, PacketBuffer[] buffers)
    {
        foreach (var receiver in receivers)
        {
            Woken(receiver, buffers);
        }
    }
}
