using System.Net;
using Trellis.Node.Daemon;
using Trellis.Node.LocalApi;

namespace Trellis.Node.Tests.Daemon;

/// <summary>`set --metrics-listen`: checked before anything changes, served at once, kept across restarts, and stopped with "".</summary>
public sealed class MetricsSettingTests : IDisposable
{
    private readonly DaemonHarness _harness = new();
    private readonly List<string> _events = [];

    public void Dispose() => _harness.Dispose();

    /// <summary>A stand-in for the executable's exporter that records what it was asked; port 9 is "busy".</summary>
    private NodeDaemonOptions Options() => _harness.Options() with
    {
        MetricsListener = (address, _) =>
        {
            if (address.Port == 9)
            {
                throw new IOException($"cannot serve metrics on {address}: address in use");
            }

            lock (_events)
            {
                _events.Add($"start {address}");
            }

            return Task.FromResult<IAsyncDisposable>(new Listener(address, _events));
        },
    };

    private sealed class Listener(IPEndPoint address, List<string> events) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (events)
            {
                events.Add($"stop {address}");
            }

            return ValueTask.CompletedTask;
        }
    }

    private static SetRequest Set(string metrics) => new() { Settings = new() { MetricsListen = metrics } };

    [Fact]
    public async Task A_listener_starts_moves_survives_a_restart_and_stops()
    {
        await using (var daemon = await NodeDaemon.StartAsync(Options()))
        {
            Assert.Equal("127.0.0.1:9092", (await daemon.SetAsync(Set(" 127.0.0.1:9092 "), CancellationToken.None)).MetricsListen);
            await daemon.SetAsync(Set("[::1]:9093"), CancellationToken.None);
            Assert.Equal("[::1]:9093", daemon.Prefs().MetricsListen);
        }

        await using (var again = await NodeDaemon.StartAsync(Options()))
        {
            Assert.Equal("[::1]:9093", again.Prefs().MetricsListen);
            Assert.Null((await again.SetAsync(Set(""), CancellationToken.None)).MetricsListen);
        }

        Assert.Equal(["start 127.0.0.1:9092", "start [::1]:9093", "stop 127.0.0.1:9092", "stop [::1]:9093", "start [::1]:9093", "stop [::1]:9093"], _events);
    }

    [Theory]
    [InlineData("localhost:9092", LocalApiErrors.Invalid, "--metrics-listen 'localhost' is not an IP address; a metrics listener binds an address, e.g. 127.0.0.1:9092; nothing was changed")]
    [InlineData("127.0.0.1:9", LocalApiErrors.Failed, "cannot serve metrics on 127.0.0.1:9: address in use; nothing was changed")]
    public async Task A_bad_or_busy_address_is_refused_and_the_old_listener_stays(string given, string code, string message)
    {
        await using var daemon = await NodeDaemon.StartAsync(Options());
        await daemon.SetAsync(Set("127.0.0.1:9092"), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<LocalApiException>(() => daemon.SetAsync(Set(given), CancellationToken.None));

        Assert.Equal((code, message), (refused.Code, refused.Message));
        Assert.Equal("127.0.0.1:9092", daemon.Prefs().MetricsListen);
        Assert.Equal(["start 127.0.0.1:9092"], _events);
    }
}
