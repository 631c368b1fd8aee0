using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// One client of a <see cref="UapiServer"/>: a sequence of <c>get=1</c> and <c>set=1</c> requests,
/// answered as wireguard-go's IpcHandle answers them. Anything else closes the connection.
/// </summary>
internal sealed class UapiConnection(Device device, Socket socket, CancellationToken stopping, Action<UapiConnection> closed)
{
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    /// <summary>Drops the connection; a read or write in progress fails and the connection ends.</summary>
    public void Abort() => socket.Dispose();

    private async Task RunAsync()
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var stream = new NetworkStream(socket, ownsSocket: true);
            await using (stream.ConfigureAwait(false))
            {
                var reader = new UapiLineReader(stream, UapiLimits.MaxLineLength);
                while (await ServeOneAsync(stream, reader, timeout).ConfigureAwait(false))
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The client went away, stalled, or sent a line too long to be an operation: only this connection ends.
        }
        finally
        {
            socket.Dispose();
            closed(this);
        }
    }

    /// <summary>Serves one request; false when the connection should close.</summary>
    private async Task<bool> ServeOneAsync(NetworkStream stream, UapiLineReader reader, CancellationTokenSource timeout)
    {
        timeout.CancelAfter(UapiLimits.IdleTimeout);
        var operation = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        switch (operation)
        {
            case "get=1":
                // The request is "get=1\n\n": wireguard-go reads exactly one more byte.
                var next = await reader.ReadByteAsync(timeout.Token).ConfigureAwait(false);
                if (next < 0)
                {
                    return false;
                }

                var response = next == '\n'
                    ? await GetAsync(timeout).ConfigureAwait(false) + Status(UapiErrno.Success)
                    : Status(UapiErrno.Invalid);
                await WriteAsync(stream, response, timeout).ConfigureAwait(false);
                return true;

            case "set=1":
                var (errno, after) = await SetAsync(reader, timeout).ConfigureAwait(false);
                await WriteAsync(stream, Status(errno), timeout).ConfigureAwait(false);
                return after switch
                {
                    SetRest.None => true,
                    SetRest.Unread => await SkipRequestAsync(reader, timeout).ConfigureAwait(false),
                    _ => false,
                };

            default:
                return false;
        }
    }

    private async Task<string> GetAsync(CancellationTokenSource timeout)
    {
        var gate = UapiGate.For(device);
        await gate.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            return UapiProtocol.FormatGet(device);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Streams the set's lines into the device under the gate.</summary>
    private async Task<(int Errno, SetRest After)> SetAsync(UapiLineReader reader, CancellationTokenSource timeout)
    {
        var gate = UapiGate.For(device);
        timeout.CancelAfter(UapiLimits.IdleTimeout);
        await gate.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            var session = new UapiSetSession(device);
            var start = reader.Consumed;
            while (true)
            {
                string? line;
                try
                {
                    timeout.CancelAfter(UapiLimits.IdleTimeout);
                    line = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
                {
                    // wireguard-go on a read error: finish the peer in hand, answer -EIO (if anyone still listens).
                    session.Complete();
                    return (UapiErrno.Io, SetRest.Unreadable);
                }

                if (line is null)
                {
                    session.Complete();
                    return (UapiErrno.Success, SetRest.Unreadable);
                }

                if (line.Length == 0 || line == "\r")
                {
                    session.Complete();
                    return (UapiErrno.Success, SetRest.None);
                }

                if (reader.Consumed - start > UapiLimits.MaxRequestBytes)
                {
                    session.Complete();
                    return (UapiErrno.Io, SetRest.Unreadable);
                }

                var errno = session.ApplyLine(line);
                if (errno != UapiErrno.Success)
                {
                    session.Abandon();
                    return (errno, SetRest.Unread);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Discards what is left of a failed set, outside the gate, so the next request can follow (and
    /// closing does not reset a client still sending). wireguard-go instead reads the next line as an
    /// operation and closes; either way the client has its answer first.
    /// </summary>
    private static async Task<bool> SkipRequestAsync(UapiLineReader reader, CancellationTokenSource timeout)
    {
        var start = reader.Consumed;
        while (reader.Consumed - start <= UapiLimits.MaxRequestBytes)
        {
            timeout.CancelAfter(UapiLimits.IdleTimeout);
            var line = await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (line is null)
            {
                return false;
            }

            if (line.Length == 0 || line == "\r")
            {
                return true;
            }
        }

        return false;
    }

    private static string Status(int errno) => "errno=" + errno.ToString(CultureInfo.InvariantCulture) + "\n\n";

    private enum SetRest
    {
        /// <summary>The request ended with its blank line.</summary>
        None,

        /// <summary>A line failed; the rest of the request follows.</summary>
        Unread,

        /// <summary>The stream ended or cannot be resynchronised.</summary>
        Unreadable,
    }

    private static async Task WriteAsync(NetworkStream stream, string text, CancellationTokenSource timeout)
    {
        timeout.CancelAfter(UapiLimits.IdleTimeout);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), timeout.Token).ConfigureAwait(false);
    }
}
