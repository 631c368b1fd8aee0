using System.CommandLine;
using System.Globalization;
using Trellis.Core.Control;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// `trellis ping PEER`: discovery pings (not ICMP) on every path at once, one a second, saying which
/// path answered; it stops as soon as a direct path answers, as there is nothing better to find.
/// </summary>
internal static class PingVerb
{
    public static Command Build()
    {
        var peer = new Argument<string>("PEER") { Description = "A peer's hostname, overlay address or node key." };
        var count = new Option<int>("-c", "--count") { Description = "Most pings to send (default 10; stops early once a direct path answers).", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print each answer (or timeout) as one JSON object per line." };
        var command = new Command("ping", "Ping a peer through Trellis and say which path answered.") { peer, count, json };
        command.SetNodeAction(NodeAction.SocketOption(), "ping", async run =>
        {
            var n = run.Parse.GetValue(count);
            if (n < 1)
            {
                throw new LocalApiException(LocalApiErrors.Invalid, "--count must be at least 1");
            }

            var answered = 0;
            for (var i = 0; i < n; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), run.CancellationToken).ConfigureAwait(false);
                }

                PingResponse pong;
                try
                {
                    pong = await run.Client.PingAsync(new PingRequest { Peer = run.Parse.GetValue(peer)! }, run.CancellationToken).ConfigureAwait(false);
                }
                catch (LocalApiException e) when (e.Code == LocalApiErrors.Timeout)
                {
                    if (run.Parse.GetValue(json))
                    {
                        JsonLines.Write(run.Output, new ErrorResponse { Code = e.Code, Error = e.Message }, LocalApiJsonContext.Relaxed.ErrorResponse);
                    }
                    else
                    {
                        run.Output.WriteLine($"trellis ping: {e.Message}");
                    }

                    continue;
                }

                answered++;
                if (run.Parse.GetValue(json))
                {
                    JsonLines.Write(run.Output, pong, LocalApiJsonContext.Relaxed.PingResponse);
                    if (pong.Path == PathKind.Direct)
                    {
                        break;
                    }

                    continue;
                }

                var via = pong.Path switch
                {
                    PathKind.Direct => pong.Endpoint,
                    PathKind.PeerRelay => $"{PathKind.PeerRelay} {pong.Endpoint}",
                    _ => $"relay {pong.Relay}",
                };
                run.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pong from {pong.Hostname} ({pong.Address}) via {via} in {pong.LatencyMs:0.0} ms"));
                if (pong.Path == PathKind.Direct)
                {
                    break;
                }
            }

            if (answered == 0)
            {
                await run.Parse.InvocationConfiguration.Error.WriteLineAsync($"trellis ping: no answer from {run.Parse.GetValue(peer)}").ConfigureAwait(false);
                return CommandLine.Failure;
            }

            return CommandLine.Success;
        });
        return command;
    }
}
