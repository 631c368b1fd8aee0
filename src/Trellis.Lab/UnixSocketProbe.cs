using System.Net.Sockets;

namespace Trellis.Lab;

/// <summary>Whether a Unix stream socket accepts connections, asked without side effects on the file.</summary>
public static class UnixSocketProbe
{
    public static bool Accepts(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
