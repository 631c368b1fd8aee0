using System.CommandLine;
using System.Globalization;
using Trellis.Control.Admin;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis nodes add-wireguard|wireguard-config|gateway`: devices with only a stock WireGuard client, and the gateways they enter through.</summary>
internal static class PlainPeerCommands
{
    public static Command AddWireGuard(AdminOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The device's name in the network (a DNS label)." };
        var user = new Option<string>("--user") { Description = "The user who owns the device.", Required = true };
        var publicKey = new Option<string?>("--public-key") { Description = "The device's WireGuard public key (preferred: its private key never leaves it). Without it the server generates a key pair and prints the private key once." };
        var gateway = new Option<string?>("--gateway") { Description = "The gateway node it enters through (id or name); needed when there are several." };
        var qr = QrOption();
        var command = new Command("add-wireguard", "Add a device that runs only a stock WireGuard client (a phone, a Windows or macOS laptop, a router); prints its wg-quick configuration.") { name, user, publicKey, gateway, qr };
        command.SetAdminAction(options, "nodes add-wireguard", async run =>
        {
            var key = run.Parse.GetValue(publicKey);
            var added = await run.Client.PostAsync(
                "api/v1/nodes/wireguard",
                new AddWireGuardPeerRequest { Name = run.Parse.GetRequiredValue(name), User = run.Parse.GetRequiredValue(user), PublicKey = key, Gateway = run.Parse.GetValue(gateway) },
                AdminJsonContext.Default.AddWireGuardPeerRequest, AdminJsonContext.Default.WireGuardConfigDto, run.CancellationToken).ConfigureAwait(false);
            Print(run, added, run.Parse.GetValue(qr));
            if (!run.Json && key is null)
            {
                await run.Parse.InvocationConfiguration.Error.WriteLineAsync(
                    "the private key above is shown this once and stored nowhere: put the configuration on the device now").ConfigureAwait(false);
            }
        });
        return command;
    }

    public static Command WireGuardConfig(AdminOptions options)
    {
        var node = new Argument<string>("NAME") { Description = "The plain WireGuard peer's id or name." };
        var qr = QrOption();
        var command = new Command("wireguard-config", "Print a plain WireGuard peer's wg-quick configuration again (without a private key: the server never keeps one).") { node, qr };
        command.SetAdminAction(options, "nodes wireguard-config", async run =>
        {
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var config = await run.Client.GetAsync($"api/v1/nodes/{id}/wireguard-config", AdminJsonContext.Default.WireGuardConfigDto, run.CancellationToken).ConfigureAwait(false);
            Print(run, config, run.Parse.GetValue(qr));
        });
        return command;
    }

    public static Command Gateway(AdminOptions options)
    {
        var node = new Argument<string>("NODE") { Description = "The node's id or name." };
        var state = new Argument<string>("on|off") { Description = "on: the node serves plain WireGuard peers; off: it stops (once it serves none)." };
        state.AcceptOnlyFromAmong("on", "off");
        var endpoint = new Option<string?>("--endpoint") { Description = "HOST:PORT devices dial, e.g. a port forwarded to the node; default: the first public endpoint the node reports." };
        var command = new Command("gateway", "Let a node serve plain WireGuard peers: it holds them as WireGuard peers and forwards between them and the network. It needs a UDP endpoint they can reach unasked.") { node, state, endpoint };
        command.SetAdminAction(options, "nodes gateway", async run =>
        {
            var enabled = run.Parse.GetRequiredValue(state) == "on";
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var changed = await run.Client.PostAsync(
                $"api/v1/nodes/{id}/gateway", new SetGatewayRequest { Enabled = enabled, Endpoint = run.Parse.GetValue(endpoint) },
                AdminJsonContext.Default.SetGatewayRequest, AdminJsonContext.Default.NodeDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json
                ? changed.Json
                : enabled
                    ? $"node {changed.Value.Name} (id {id.ToString(CultureInfo.InvariantCulture)}) serves plain WireGuard peers (add one with: trellis nodes add-wireguard NAME --user USER)"
                    : $"node {changed.Value.Name} (id {id.ToString(CultureInfo.InvariantCulture)}) no longer serves plain WireGuard peers");
        });
        return command;
    }

    private static Option<bool> QrOption() => new("--qr") { Description = "Also print the configuration as a QR code, for the WireGuard phone apps." };

    private static void Print(AdminInvocation run, AdminReply<WireGuardConfigDto> reply, bool qr)
    {
        if (run.Json)
        {
            run.Output.WriteLine(reply.Json);
            return;
        }

        run.Output.Write(reply.Value.Config);
        if (qr)
        {
            run.Output.WriteLine();
            run.Output.Write(ConfigQrCode.ForTerminal(reply.Value.Config));
        }
    }
}
