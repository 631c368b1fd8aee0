using System.CommandLine;
using System.Net;
using System.Text.Json;
using Trellis.Node.Control;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// `trellis up`: connect this node to a control server through the daemon. Prints what happened;
/// while an admin has to approve the node it prints the command for them and waits; on a server
/// with single sign-on it prints the sign-in link (and its QR code) and waits for the sign-in.
/// </summary>
internal static class UpVerb
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Build()
    {
        var server = new Option<string?>("--server") { Description = "The control server's URL, e.g. https://trellis.example.com, or its replicas' URLs separated by commas, tried in turn (default: the one of the last `up`)." };
        var authKey = new Option<string?>("--authkey") { Description = "An auth key (default: $TRELLIS_AUTHKEY; without one an admin must approve the node)." };
        var serverKey = new Option<string?>("--server-key") { Description = "The server's public key as `trellis server` prints it: pinned instead of trusting the first answer (default: the pinned one, else trust on first use)." };
        var flags = new SettingFlags();
        var reset = new Option<bool>("--reset") { Description = "Return every setting this command does not mention to its default (without it, `up` refuses to drop a setting made earlier)." };
        var json = new Option<bool>("--json") { Description = "Print the daemon's answer as JSON and return at once, also while the node waits for an admin (then poll `trellis status --json`)." };
        var forceReauth = new Option<bool>("--force-reauth") { Description = "Register again with the auth key even if this node is already connected (e.g. to take the key's user or tags); without an auth key, renew a connected node's key by signing in again, staying connected." };
        var command = new Command("up", "Connect this node to a Trellis network. With setting flags, `up` states every setting (unmentioned ones mean their defaults); `trellis set` changes one.")
        {
            server, serverKey, authKey, reset, forceReauth, json,
        };
        foreach (var option in flags.All(withHostname: true))
        {
            command.Options.Add(option);
        }

        command.SetNodeAction(NodeAction.SocketOption(), "up", async run =>
        {
            var url = run.Parse.GetValue(server);
            if (url is not null && ControlServers.Parse(url).Problem is { } problem)
            {
                throw new LocalApiException(LocalApiErrors.Invalid, $"--server {problem}");
            }

            var settings = flags.Given(run.Parse);
            var name = NonEmpty(run.Parse.GetValue(flags.Hostname));
            var hostnameGiven = SettingFlags.IsGiven(run.Parse, flags.Hostname);
            var resetting = run.Parse.GetValue(reset);
            if ((SettingFlags.AnyGiven(settings) || hostnameGiven) && !resetting)
            {
                var lost = SettingFlags.WouldReset(await run.Client.PrefsAsync(run.CancellationToken).ConfigureAwait(false), settings, hostnameGiven);
                if (lost.Count > 0)
                {
                    var keep = string.Join(' ', ["trellis up", .. SettingFlags.AsFlags(settings, name), .. lost]);
                    throw new LocalApiException(
                        LocalApiErrors.Invalid,
                        $"this would reset settings made earlier that it does not mention: {string.Join(' ', lost)}\n"
                        + $"  to keep them:  {keep}\n"
                        + "  to drop them:  add --reset; to change one setting alone: trellis set");
                }
            }

            var given = NonEmpty(run.Parse.GetValue(authKey)) ?? NonEmpty(Environment.GetEnvironmentVariable("TRELLIS_AUTHKEY"));
            var answer = await run.Client.UpAsync(new UpRequest
            {
                Server = url,
                AuthKey = given,
                ForceReauth = run.Parse.GetValue(forceReauth),
                Hostname = name,
                ServerKey = NonEmpty(run.Parse.GetValue(serverKey)),
                Settings = settings,
                Reset = resetting,
            }, run.CancellationToken).ConfigureAwait(false);
            if (run.Parse.GetValue(json))
            {
                run.Output.WriteLine(JsonSerializer.Serialize(answer, LocalApiJsonContext.Relaxed.UpResponse));
                return CommandLine.Success;
            }

            if (answer.AuthKeyIgnored)
            {
                run.Output.WriteLine("trellis up: already connected; the auth key was not needed (--force-reauth registers with it again)");
            }

            if (answer.State == NodeStates.Running && run.Parse.GetValue(forceReauth) && given is null && answer.Status.RenewHint is { } renewHint)
            {
                return await RenewAsync(run, answer.Status, renewHint).ConfigureAwait(false);
            }

            if (answer.State == NodeStates.Running)
            {
                run.Output.WriteLine($"trellis up: connected to {answer.Status.Server} as {Describe(answer.Status)}");
                return CommandLine.Success;
            }

            if (answer.Status.AuthUrl is { } signIn)
            {
                await ShowLinkAsync(run, "trellis up: to register this node, sign in at:", signIn, "  waiting for the sign-in (Ctrl-C stops waiting; the daemon keeps asking)...").ConfigureAwait(false);
                return await WaitForApprovalAsync(run).ConfigureAwait(false);
            }

            run.Output.WriteLine("trellis up: this node waits for an admin's approval");
            run.Output.WriteLine($"  {answer.ApproveHint ?? answer.Status.ApproveHint}");
            run.Output.WriteLine("  waiting (Ctrl-C stops waiting; the daemon keeps asking)...");
            await run.Output.FlushAsync(run.CancellationToken).ConfigureAwait(false);
            return await WaitForApprovalAsync(run).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// A running node asked to renew its key: prints the sign-in link (and QR code) and waits until
    /// the renewed expiry arrives; without a link, the server said how else to renew it, which is an error here.
    /// </summary>
    private static async Task<int> RenewAsync(NodeInvocation run, StatusResponse status, string hint)
    {
        if (status.RenewUrl is not { } link)
        {
            throw new LocalApiException(LocalApiErrors.Failed, hint);
        }

        var before = status.Self?.KeyExpiry;
        var expires = before is { } at ? $" (it expires {Admin.AdminText.Time(at)})" : "";
        await ShowLinkAsync(run, $"trellis up: to renew this node's key{expires}, sign in at:", link, "  the node stays connected; waiting for the sign-in (Ctrl-C stops waiting)...").ConfigureAwait(false);
        while (true)
        {
            await Task.Delay(PollInterval, run.CancellationToken).ConfigureAwait(false);
            var now = await run.Client.StatusAsync(run.CancellationToken).ConfigureAwait(false);
            if (now.Self?.KeyExpiry is { } renewed && renewed != before)
            {
                run.Output.WriteLine($"trellis up: renewed; this node's key now expires {Admin.AdminText.Time(renewed)}");
                return CommandLine.Success;
            }

            if (now.State is NodeStates.NeedsLogin or NodeStates.Stopped)
            {
                throw new LocalApiException(LocalApiErrors.Failed, now.Error ?? $"the node is {now.State}");
            }
        }
    }

    /// <summary>A sign-in link as the person at the terminal needs it: on a line of its own, and as a QR code for a phone.</summary>
    private static async Task ShowLinkAsync(NodeInvocation run, string heading, string link, string waiting)
    {
        run.Output.WriteLine(heading);
        run.Output.WriteLine();
        run.Output.WriteLine($"  {link}");
        run.Output.WriteLine();
        run.Output.Write(Admin.ConfigQrCode.ForTerminal(link));
        run.Output.WriteLine(waiting);
        await run.Output.FlushAsync(run.CancellationToken).ConfigureAwait(false);
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

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
