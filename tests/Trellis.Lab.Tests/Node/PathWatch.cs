using System.Diagnostics;
using Trellis.Node.LocalApi;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Watches both nodes' status over their local API sockets (no CLI start per look, so about every
/// <see cref="Every"/>) and remembers, per direction, when its path last changed: the time to the
/// final path without the seconds a `trellis status` process costs on a busy machine. Figures only:
/// tests assert on paths, never on these times.
/// </summary>
public sealed class PathWatch : IAsyncDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(50);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Direction[] _directions;

    private PathWatch(IEnumerable<(LabNode From, string To)> directions)
    {
        _directions = [.. directions.Select(d => new Direction(d.From, d.To))];
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Starts watching the path of <paramref name="a"/> to <paramref name="b"/> and back; the clock starts now.</summary>
    public static PathWatch Start(LabNode a, LabNode b) => new([(a, b.Name), (b, a.Name)]);

    /// <summary>Stops watching; then the time since the start at which the later direction took the path it still has.</summary>
    public async Task<TimeSpan> SettledAsync()
    {
        await StopAsync().ConfigureAwait(false);
        return _directions.Max(d => d.Since);
    }

    /// <summary>What each direction saw, for the test output.</summary>
    public string Describe() => string.Join("; ", _directions.Select(d => $"{d.From.Name}->{d.To}: {d.Path} since {d.Since.TotalSeconds:0.00} s"));

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LoopAsync()
    {
        var clients = _directions.Select(d => d.From.Socket).Distinct().ToDictionary(s => s, s => new LocalApiClient(s, TimeSpan.FromSeconds(30)));
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var direction in _directions)
                {
                    StatusResponse status;
                    try
                    {
                        status = await clients[direction.From.Socket].StatusAsync(_stop.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or LocalApiException)
                    {
                        continue; // a figure only: a look that failed is skipped, never the test's failure
                    }

                    var peer = status.Peers.FirstOrDefault(p => p.Hostname == direction.To);
                    direction.Observe(peer is null ? "absent" : $"{peer.Path} {peer.Endpoint ?? peer.Relay}", _clock.Elapsed);
                }

                await Task.Delay(Every, _stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    private sealed class Direction(LabNode from, string to)
    {
        public LabNode From { get; } = from;

        public string To { get; } = to;

        public string? Path { get; private set; }

        public TimeSpan Since { get; private set; }

        public void Observe(string path, TimeSpan at)
        {
            if (path != Path)
            {
                Path = path;
                Since = at;
            }
        }
    }
}
