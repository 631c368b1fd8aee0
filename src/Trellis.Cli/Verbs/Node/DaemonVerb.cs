using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Trellis.Core.Tls;
using Trellis.Net;
using Trellis.Node.Daemon;
using Trellis.Node.LocalApi;
using Trellis.Node.State;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// `trellis daemon`: the node daemon in the foreground until SIGINT or SIGTERM. Everything that must
/// differ between daemons on one machine is settable: state directory, socket, TUN name, UDP port.
/// </summary>
internal static class DaemonVerb
{
    public static Command Build()
    {
        var stateDir = new Option<string?>("--state-dir") { Description = $"Keys, preferences and the cached map (default: $TRELLIS_STATE_DIR, else {StateDirectory.DefaultRootPath} as root)." };
        var socket = new Option<string?>("--socket") { Description = $"The local API socket (default: ${LocalApiSocket.EnvironmentVariable}, else {LocalApiSocket.DefaultPath})." };
        var tun = new Option<string?>("--tun") { Description = $"The TUN interface's name (default: $TRELLIS_TUN, else {NodeDaemonOptions.DefaultTunName})." };
        var port = new Option<int?>("--port") { Description = $"The WireGuard UDP port (default: $TRELLIS_PORT, else {NodeDaemonOptions.DefaultListenPort}; 0 picks a free one)." };
        var caCert = CaCertOption.Create("the control server's and the relays' certificates");
        var logFormat = ConsoleLogging.FormatOption();
        var command = new Command("daemon", "Run the node daemon: the data plane, the control connection and the local API.") { stateDir, socket, tun, port, caCert, logFormat };
        command.SetAction(parse => Run(
            Setting(parse.GetValue(stateDir), "TRELLIS_STATE_DIR") ?? StateDirectory.DefaultPath(),
            LocalApiSocket.Resolve(parse.GetValue(socket)),
            Setting(parse.GetValue(tun), "TRELLIS_TUN") ?? NodeDaemonOptions.DefaultTunName,
            parse.GetValue(port)?.ToString(CultureInfo.InvariantCulture) ?? Setting(null, "TRELLIS_PORT"),
            parse.GetValue(caCert),
            parse.GetValue(logFormat)!,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string stateDir, string socket, string tun, string? portText, string? caCert, string logFormat, TextWriter output, TextWriter error)
    {
        PrivateCa? ca;
        try
        {
            ca = PrivateCa.FromFlagOrEnvironment(caCert);
        }
        catch (InvalidDataException e)
        {
            error.WriteLine($"trellis daemon: {e.Message}");
            return CommandLine.UsageError;
        }

        try
        {
            InterfaceName.Validate(tun, "--tun");
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"trellis daemon: {e.Message}");
            return CommandLine.UsageError;
        }

        var port = NodeDaemonOptions.DefaultListenPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
        {
            error.WriteLine($"trellis daemon: the port must be a number from 0 to 65535, got '{portText}'");
            return CommandLine.UsageError;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var logging = LoggerFactory.Create(l => l
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning) // the local API's per-request lines are noise in a daemon's log
            .AddTrellisConsole(logFormat));
        string? failure = null;

        // Before any socket opens: the control connection made now must already keep the host's
        // routes when an exit node is chosen later (see ExitRouting).
        Trellis.Core.Transport.UnderlayMark.Enable(Trellis.Core.Transport.UnderlayMark.Default);
        var options = new NodeDaemonOptions
        {
            StateDirectory = stateDir,
            SocketPath = socket,
            TunName = tun,
            ListenPort = port,
            PrivateCa = ca,
            LoggerFactory = logging,
            Dns = new Trellis.Node.Dns.NodeDnsOptions(),
            MetricsListener = async (address, cancellationToken) => await Metrics.MetricsListener.StartAsync(address, cancellationToken).ConfigureAwait(false),
            EngineFactory = args => DaemonEngine.Create(args, e =>
            {
                failure = e.Message;
                stop.Cancel();
            }),
        };
        try
        {
            return RunAsync(options, output, stop.Token).GetAwaiter().GetResult() && failure is null
                ? CommandLine.Success
                : Fail(error, $"the data plane failed: {failure}; shutting down");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException
                                      or ArgumentException or System.Net.Sockets.SocketException)
        {
            return Fail(error, e.Message);
        }
    }

    private static async Task<bool> RunAsync(NodeDaemonOptions options, TextWriter output, CancellationToken stop)
    {
        await using var daemon = await NodeDaemon.StartAsync(options, stop).ConfigureAwait(false);

        // The process is the daemon's alone: its heap is kept near what it holds alive (a full collection
        // when the slack since the last one grows), or it creeps for an hour (docs/BENCHMARKS.md, "Soak").
        using var heapSlack = HeapSlackCollector.ForThisProcess(TimeProvider.System);
        var status = daemon.Status();
        output.WriteLine($"trellis daemon: local API on {daemon.SocketPath}; state in {daemon.StateDirectory}; TUN {options.TunName}, UDP port {options.ListenPort}");
        output.WriteLine(status.Server is null
            ? "  not connected to a network yet: run `trellis up --server URL --authkey KEY`"
            : $"  {status.State} ({status.Server}), {status.Peers.Count} peers");
        await output.FlushAsync(stop).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM (or a failed data plane): dispose below stops everything cleanly
        }

        return true;
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"trellis daemon: {message}");
        return CommandLine.Failure;
    }

    private static string? Setting(string? flag, string variable)
    {
        var value = string.IsNullOrWhiteSpace(flag) ? Environment.GetEnvironmentVariable(variable) : flag;
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}
