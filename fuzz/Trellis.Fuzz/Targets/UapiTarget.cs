using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.WireGuard;
using Trellis.WireGuard.Uapi;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// The body of a <c>set=1</c> request as a <c>wg</c> client streams it to the UAPI socket: lines
/// read by <see cref="UapiLineReader"/> (a line over the limit is an <see cref="InvalidDataException"/>,
/// after which the connection closes) and applied one by one by <see cref="UapiSetSession"/> until a
/// blank line or the first error; then the <c>get=1</c> answer for what was applied. The device is
/// emptied of peers before each input, so state from one input does not pile up into the next.
/// </summary>
public static class UapiTarget
{
    private static readonly Lock Gate = new();
    private static readonly Device Configured = new(new InMemoryTun("uapi0"), new InMemoryNetwork().CreateBind(Endpoint.FromIPEndPoint(System.Net.IPEndPoint.Parse("192.0.2.3:0"))));

    public static bool Run(ReadOnlySpan<byte> input)
    {
        lock (Gate)
        {
            Configured.RemoveAllPeers();
            using var stream = new MemoryStream(input.ToArray(), writable: false);
            var reader = new UapiLineReader(stream, UapiLimits.MaxLineLength);
            var session = new UapiSetSession(Configured);
            var errno = UapiErrno.Success;
            try
            {
                while (true)
                {
                    var line = reader.ReadLineAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    if (string.IsNullOrEmpty(line) || line == "\r")
                    {
                        session.Complete();
                        break;
                    }

                    errno = session.ApplyLine(line);
                    if (errno != UapiErrno.Success)
                    {
                        session.Abandon();
                        break;
                    }
                }
            }
            catch (InvalidDataException)
            {
                session.Complete();
                errno = UapiErrno.Io;
            }

            using var answer = new StringWriter();
            UapiProtocol.WriteGet(Configured, answer);
            return errno == UapiErrno.Success;
        }
    }
}
