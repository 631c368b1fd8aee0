namespace Trellis.WireGuard.Uapi;

public static partial class UapiProtocol
{
    /// <summary>
    /// Applies the body of a <c>set=1</c> request (the lines after it) up to a blank line or the end of
    /// <paramref name="input"/>, and returns 0 or the errno wireguard-go would answer with (see
    /// <see cref="UapiErrno"/>). Lines are applied as they are read; the first bad one ends the
    /// request and the lines before it stay applied, as in wireguard-go. Bad input never throws.
    /// </summary>
    public static int ApplySet(Device device, TextReader input)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(input);
        var gate = UapiGate.For(device);
        gate.Wait();
        try
        {
            var session = new UapiSetSession(device);
            while (true)
            {
                string? line;
                try
                {
                    line = input.ReadLine();
                }
                catch (IOException)
                {
                    // As wireguard-go after a read error: finish the peer in hand, then report it.
                    session.Complete();
                    return UapiErrno.Io;
                }

                if (string.IsNullOrEmpty(line))
                {
                    session.Complete();
                    return UapiErrno.Success;
                }

                var errno = session.ApplyLine(line);
                if (errno != UapiErrno.Success)
                {
                    session.Abandon();
                    return errno;
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Applies <paramref name="text"/> as a set body; see <see cref="ApplySet(Device, TextReader)"/>.</summary>
    public static int ApplySet(Device device, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return ApplySet(device, reader);
    }
}
