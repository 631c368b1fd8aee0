using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Trellis.Lab;

namespace Trellis.Footprint;

/// <summary>
/// The daemon's local API asked from the harness over its Unix socket directly (no CLI process per
/// question, so a timing is the daemon's and not a process start's), polled every 2 ms.
/// </summary>
internal sealed class LocalApiProbe : IDisposable
{
    private static readonly TimeSpan Cadence = TimeSpan.FromMilliseconds(2);
    private readonly string _socket;
    private readonly HttpClient _http;

    public LocalApiProbe(string socket)
    {
        _socket = socket;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                    return new NetworkStream(connection, ownsSocket: true);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://trellis-daemon/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Milliseconds since <paramref name="started"/> when the socket first accepts a connection.</summary>
    public Task<double> ListeningAsync(Stopwatch started, LabProcess daemon, TimeSpan timeout) =>
        UntilAsync(started, daemon, timeout, "the daemon's local API", () => Task.FromResult(UnixSocketProbe.Accepts(_socket)));

    /// <summary>Milliseconds since <paramref name="started"/> when the status first says "running".</summary>
    public Task<double> RunningAsync(Stopwatch started, LabProcess daemon, TimeSpan timeout) =>
        UntilAsync(started, daemon, timeout, "the daemon to be running", async () =>
            await StatusAsync() is { } status && status.GetProperty("state").GetString() == "running");

    /// <summary>GET /v1/status, or null while the daemon does not answer.</summary>
    public async Task<JsonElement?> StatusAsync()
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("v1/status", UriKind.Relative));
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return status.RootElement.Clone();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The daemon's GC heap in MiB as its status reports it; null from a daemon that does not.</summary>
    public async Task<double?> GcHeapMiBAsync() =>
        await StatusAsync() is { } status && status.TryGetProperty("memory", out var memory) && memory.ValueKind == JsonValueKind.Object
            ? memory.GetProperty("gcHeapBytes").GetInt64() / 1048576.0
            : null;

    private static async Task<double> UntilAsync(Stopwatch started, LabProcess daemon, TimeSpan timeout, string what, Func<Task<bool>> condition)
    {
        while (!await condition())
        {
            if (daemon.HasExited || started.Elapsed > timeout)
            {
                throw new TimeoutException($"gave up waiting for {what} after {started.Elapsed.TotalSeconds:F1} s");
            }

            await Task.Delay(Cadence);
        }

        return started.Elapsed.TotalMilliseconds;
    }

    public void Dispose() => _http.Dispose();
}
