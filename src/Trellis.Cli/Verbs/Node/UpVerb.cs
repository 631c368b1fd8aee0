using System.CommandLine;
using System.Net;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// `trellis up`: connect this node to a control server through the daemon. Prints what happened;
/// while an admin has to approve the node it prints the command for them and waits.
/// </summary>
internal static class UpVerb
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Build()
    {
        var server = new Option<string?>("--server") { Description = "The control server's URL, e.g. https://trellis.example.com (default: the one of the last `up`)." };
        var authKey = new Option<string?>("--authkey") { Description = "An auth key (default: $TRELLIS_AUTHKEY; without one an admin must approve the node)." };
        var serverKey = new Option<string?>("--server-key") { Description = "The server's public key as `trellis server` prints it: pinned instead of trusting the first answer (default: the pinned one, else trust on first use)." };
        var hostname = new Option<string?>("--hostname") { Description = "The name to register under (default: the machine's host name)." };
        var routes = new Option<string[]>("--advertise-routes") { Description = "Subnets to offer the mesh, comma-separated or repeated (e.g. 192.168.1.0/24)." };
        var acceptRoutes = new Option<bool>("--accept-routes") { Description = "Use the subnet routes other nodes advertise." };
        var acceptDns = new Option<bool>("--accept-dns")
        {
            Description = "Point this host's resolver at the mesh's, so peers resolve by name (default true; --accept-dns=false leaves the host's DNS alone).",
            DefaultValueFactory = _ => true,
        };
        var noMasquerade = new Option<bool>("--no-masquerade") { Description = "Forward into advertised subnets without masquerading (their router must route the overlay back)." };
        var noPortGuessing = new Option<bool>("--no-port-guessing")
        {
            Description = "Never guess ports to reach a peer behind the other kind of NAT (an easy and a hard one); such a pair then stays on the relay. Guessing costs up to 1000 small pings or 256 short-lived sockets per attempt.",
        };
        var peerRelay = new Option<bool>("--peer-relay")
        {
            Description = "Relay over UDP for peers that cannot reach each other directly (both behind NATs that map per destination), while this node has a public or port-mapped endpoint. Such a pair is then much faster than over the relay server; this node forwards their encrypted packets, at most 1 Gbit/s per side of 256 pairs.",
        };
        var command = new Command("up", "Connect this node to a Trellis network.") { server, serverKey, authKey, hostname, routes, acceptRoutes, acceptDns, noMasquerade, noPortGuessing, peerRelay };
        command.SetNodeAction(NodeAction.SocketOption(), "up", async run =>
        {
            var url = run.Parse.GetValue(server);
            if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
            {
                throw new LocalApiException(LocalApiErrors.Invalid, $"--server must be an http:// or https:// URL, got '{url}'");
            }

            var prefixes = Routes(run.Parse.GetValue(routes));
            var answer = await run.Client.UpAsync(new UpRequest
            {
                Server = url,
                AuthKey = NonEmpty(run.Parse.GetValue(authKey)) ?? NonEmpty(Environment.GetEnvironmentVariable("TRELLIS_AUTHKEY")),
                Hostname = NonEmpty(run.Parse.GetValue(hostname)),
                ServerKey = NonEmpty(run.Parse.GetValue(serverKey)),
                AdvertiseRoutes = prefixes,
                AcceptRoutes = run.Parse.GetValue(acceptRoutes),
                AcceptDns = run.Parse.GetValue(acceptDns),
                Masquerade = !run.Parse.GetValue(noMasquerade),
                PortGuessing = !run.Parse.GetValue(noPortGuessing),
                PeerRelay = run.Parse.GetValue(peerRelay),
            }, run.CancellationToken).ConfigureAwait(false);
            if (answer.State == NodeStates.Running)
            {
                run.Output.WriteLine($"trellis up: connected to {answer.Status.Server} as {Describe(answer.Status)}");
                return CommandLine.Success;
            }

            run.Output.WriteLine("trellis up: this node waits for an admin's approval");
            run.Output.WriteLine($"  {answer.ApproveHint ?? answer.Status.ApproveHint}");
            run.Output.WriteLine("  waiting (Ctrl-C stops waiting; the daemon keeps asking)...");
            await run.Output.FlushAsync(run.CancellationToken).ConfigureAwait(false);
            return await WaitForApprovalAsync(run).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> WaitForApprovalAsync(NodeInvocation run)
    {
        while (true)
        {
            await Task.Delay(PollInterval, run.CancellationToken).ConfigureAwait(false);
            var status = await run.Client.StatusAsync(run.CancellationToken).ConfigureAwait(false);
            switch (status.State)
            {
                case NodeStates.Running:
                    run.Output.WriteLine($"trellis up: approved; connected to {status.Server} as {Describe(status)}");
                    return CommandLine.Success;
                case NodeStates.NeedsLogin or NodeStates.Stopped:
                    throw new LocalApiException(LocalApiErrors.Failed, status.Error ?? $"the node is {status.State}");
            }
        }
    }

    private static string Describe(StatusResponse status) =>
        status.Self is { } self ? $"{self.Hostname} ({string.Join(", ", self.Addresses.Select(StripHostPrefix))})" : "this node";

    /// <summary>"100.64.0.1/32" reads better as "100.64.0.1".</summary>
    internal static string StripHostPrefix(string address)
    {
        var slash = address.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && IPAddress.TryParse(address.AsSpan(0, slash), out var ip)
            && address[(slash + 1)..] == (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "32" : "128")
            ? address[..slash]
            : address;
    }

    private static List<string> Routes(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
