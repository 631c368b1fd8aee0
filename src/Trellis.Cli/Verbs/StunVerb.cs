using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Trellis.Net.Stun;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis stun [--port N]`: a standalone STUN server (Binding only) on one dual-stack UDP socket,
/// until SIGINT or SIGTERM. What a relay host runs next to its relay, and what the lab runs as the
/// internet's STUN servers.
/// </summary>
internal static class StunVerb
{
    public static Command Build()
    {
        var port = new Option<int>("--port")
        {
            Description = $"UDP port to answer on, IPv4 and IPv6 (default {StunServer.DefaultPort}; 0 picks a free one).",
            DefaultValueFactory = _ => StunServer.DefaultPort,
        };
        var command = new Command("stun", "Run a standalone STUN server until interrupted.") { port };
        command.SetAction(parse => Run(parse.GetValue(port), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(int port, TextWriter output, TextWriter error)
    {
        if (port is < 0 or > ushort.MaxValue)
        {
            error.WriteLine("trellis stun: --port must be between 0 and 65535");
            return CommandLine.UsageError;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            return RunAsync(port, output, stop.Token).GetAwaiter().GetResult();
        }
        catch (SocketException e)
        {
            error.WriteLine($"trellis stun: cannot listen on UDP port {port}: {e.Message}");
            return CommandLine.Failure;
        }
    }

    private static async Task<int> RunAsync(int port, TextWriter output, CancellationToken stop)
    {
        await using var server = new StunServer(new StunServerOptions { Port = port });
        await server.StartAsync(stop).ConfigureAwait(false);
        var families = server.LocalEndPoint!.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv4 and IPv6" : "IPv4 only";
        output.WriteLine($"trellis stun: listening on UDP port {server.Port} ({families})");
        await output.FlushAsync(stop).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM: stop cleanly
        }

        output.WriteLine($"trellis stun: {server.Requests} requests, {server.Answers} answers, {server.Malformed} malformed, {server.Ignored} ignored");
        return CommandLine.Success;
    }
}
