using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>Relays on 127.0.0.1 and clients for them, with test-sized limits and timings.</summary>
internal static class TestRelay
{
    // Every refusal a test expects is an answer, never a timeout: the wait only ends a failing test.
    // 5 s was seen to run out on the first (JIT-heavy) handshake of a run on two busy cores.
    private static readonly TimeSpan ConnectPatience = TimeSpan.FromSeconds(60);

    public static RelayServerOptions Options(Key? privateKey = null, IRelayAdmission? admission = null) => new()
    {
        PrivateKey = privateKey ?? X25519.GeneratePrivateKey(),
        Admission = admission ?? AllowAllAdmissionForTesting.Instance,
        SendQueueLength = 4096, // exchanges check every byte: nothing may drop on a busy test machine
        SendQueueBytes = int.MaxValue,
        RestartReconnectIn = TimeSpan.FromMilliseconds(100),
        RestartTryFor = TimeSpan.FromSeconds(10),
    };

    public static Task<RelayHost> StartAsync(RelayServerOptions? options = null, int port = 0, TimeProvider? time = null) =>
        RelayHost.StartAsync(options ?? Options(), $"http://127.0.0.1:{port}", time: time, logging: Logging);

    public static RelayClient Client(RelayHost host, Key? privateKey = null, Func<RelayClientOptions, RelayClientOptions>? configure = null) =>
        Client(host.RelayUrl, privateKey, configure);

    public static RelayClient Client(Uri url, Key? privateKey = null, Func<RelayClientOptions, RelayClientOptions>? configure = null)
    {
        var options = new RelayClientOptions
        {
            Url = url,
            PrivateKey = privateKey ?? X25519.GeneratePrivateKey(),
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            ConnectTimeout = ConnectPatience,
        };
        return new RelayClient(configure?.Invoke(options) ?? options);
    }

    public static async Task<RelayClient> ConnectedClientAsync(RelayHost host, Func<RelayClientOptions, RelayClientOptions>? configure = null)
    {
        var client = Client(host, configure: configure);
        await client.ConnectAsync();
        return client;
    }

    /// <summary>TRELLIS_TEST_LOG=1 shows the relay's log on the console.</summary>
    private static void Logging(ILoggingBuilder logging)
    {
        if (Environment.GetEnvironmentVariable("TRELLIS_TEST_LOG") == "1")
        {
            logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }
    }
}
