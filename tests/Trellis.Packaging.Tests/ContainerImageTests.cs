using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Trellis.Lab;
using Xunit.Abstractions;

namespace Trellis.Packaging.Tests;

/// <summary>
/// The container image as README describes it: scripts/container-image.sh builds dist/container/Containerfile
/// with podman from the published single file (offline, from scratch) and `trellis --version` runs in it.
/// On a lab namespace standing in for the container host, the server's container publishes its ports as
/// README's `podman run` does, and a second namespace, a user's machine on the same link, checks them:
/// the HTTP API answers with the key the server printed, an API key made by the admin CLI inside the
/// container reads the server's version, `trellis netcheck` gets STUN answers. A relay's container beside
/// it answers too and keeps its key in its volume, and `podman stop` ends the server cleanly. Image,
/// containers and their volumes are removed, pass or fail, and the machine's IP forwarding is untouched.
/// </summary>
[Collection(PublishedTrellisCollection.Name)]
public sealed partial class ContainerImageTests(PublishedTrellis published, ITestOutputHelper output)
{
    private const string Forwarding = "/proc/sys/net/ipv4/ip_forward";

    // Safety nets only: copying a 150 MB file into podman's storage is slow on busy shared cores.
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_image_builds_offline_and_its_server_and_relay_answer_on_their_published_ports()
    {
        LabRequirements.EnsureAvailable(["podman", "runc", "ldd", "ldconfig", "ip", "nsenter", "curl"]);
        var forwarding = await File.ReadAllTextAsync(Forwarding);
        var name = $"trl-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        var image = $"localhost/{name}:test";
        var extract = Directory.CreateTempSubdirectory("trl-extract-");
        try
        {
            var built = await HostCommand.RunAsync(
                Path.Combine(RepositoryRoot.Path, "scripts", "container-image.sh"), [published.Executable, image], new CommandOptions { Timeout = StepTimeout });
            Assert.True(built.Succeeded, built.ToString());
            output.WriteLine(built.StandardOutput.Trim());

            var version = await HostCommand.RunAsync("podman", ["run", "--rm", "--network", "none", .. PodmanContainer.RunOptions, image, "--version"], CommandOptions.Default);
            var release = VersionOutput().Match(version.StandardOutput);
            Assert.True(release.Success, version.ToString());

            await using var machine = await NetNamespace.CreateAsync();
            await using var user = await NetNamespace.CreateAsync();
            await using var link = await VethLink.CreateAsync(machine, user);
            var host = link.Left.IPv4.Address.ToString();
            var meshKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            await using (var server = await PodmanContainer.StartAsync(
                machine, $"{name}-server", image, ["--publish", "8080:8080", "--publish", "3478:3478/udp", "--env", $"TRELLIS_RELAY_MESH_KEY={meshKey}"], []))
            {
                await server.WaitForOutputAsync("listening on", LabControlServer.StartTimeout);
                output.WriteLine($"--- {server.Name} ---\n{server.Output}");
                await CheckServerAsync(server, user, host, release, extract.FullName);
                await CheckRelayAsync(machine, user, host, $"{name}-relay", image, $"http://{await server.AddressAsync()}:8080", meshKey);

                var exit = await server.StopAsync(TimeSpan.FromSeconds(30));
                Assert.True(exit == 0, $"the server exited with {exit} on `podman stop` (137: killed after the grace period):\n{server.Output}");
            }
        }
        finally
        {
            extract.Delete(recursive: true);
            // Each image holds a copy of the 150 MB executable: leave none behind in podman's storage.
            (await HostCommand.RunAsync("podman", ["rmi", "--force", "--ignore", image], CommandOptions.Default)).EnsureSuccess();
        }

        Assert.Equal(forwarding, await File.ReadAllTextAsync(Forwarding));
    }

    /// <summary>From the user's machine: the server's key, its version through the admin API, its STUN server.</summary>
    private async Task CheckServerAsync(PodmanContainer server, NetNamespace user, string host, Match release, string extract)
    {
        var printedKey = ServerKeyLine().Match(server.Output).Groups[1].Value;
        using (var key = JsonDocument.Parse(await CurlAsync(user, $"http://{host}:8080/key")))
        {
            Assert.Equal(printedKey, key.RootElement.GetProperty("publicKey").GetString());
        }

        // The admin CLI inside finds the server's admin socket without flags; the API key it makes works from outside.
        var alice = await server.ExecAsync("trellis", "users", "create", "alice");
        Assert.True(alice.Succeeded, alice.ToString());
        var apiKey = await server.ExecAsync("trellis", "apikeys", "create");
        Assert.True(apiKey.Succeeded, apiKey.ToString());
        using (var info = JsonDocument.Parse(await CurlAsync(user, $"http://{host}:8080/api/v1/server", "--header", $"Authorization: Bearer {apiKey.StandardOutput.Trim()}")))
        {
            Assert.Equal(release.Groups["version"].Value, info.RootElement.GetProperty("version").GetString());
            Assert.Equal(release.Groups["commit"].Value, info.RootElement.GetProperty("commit").GetString());
        }

        var netcheck = await user.ExecAsync(
            published.Executable, ["netcheck", "--stun", $"{host}:3478", "--json"],
            new CommandOptions { Environment = new Dictionary<string, string> { ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = extract } });
        Assert.True(netcheck.Succeeded, netcheck.ToString());
        using var report = JsonDocument.Parse(netcheck.StandardOutput);
        Assert.True(report.RootElement.GetProperty("udpV4").GetBoolean(), netcheck.StandardOutput);
    }

    /// <summary>A relay for the server's nodes, run as README runs it: it answers on its published port and its key is in its volume.</summary>
    private async Task CheckRelayAsync(NetNamespace machine, NetNamespace user, string host, string name, string image, string control, string meshKey)
    {
        // Its STUN port stays inside: the server's container publishes the host's 3478.
        await using var relay = await PodmanContainer.StartAsync(
            machine, name, image, ["--publish", "8443:8443", "--env", $"TRELLIS_RELAY_MESH_KEY={meshKey}"], ["relay", "--control-url", control, "--insecure"]);
        await relay.WaitForOutputAsync("listening on", LabControlServer.StartTimeout);
        output.WriteLine($"--- {relay.Name} ---\n{relay.Output}");

        Assert.Equal("ok\n", await CurlAsync(user, $"http://{host}:8443/health"));
        var key = await HostCommand.RunAsync("podman", "cp", $"{relay.Name}:/var/lib/trellis-relay/relay.key", "-");
        Assert.True(key.Succeeded, key.ToString());
    }

    private static async Task<string> CurlAsync(NetNamespace user, string url, params string[] options)
    {
        var result = await user.ExecAsync("curl", ["--silent", "--show-error", "--fail-with-body", "--max-time", "30", .. options, url], CommandOptions.Default);
        Assert.True(result.Succeeded, result.ToString());
        return result.StandardOutput;
    }

    [GeneratedRegex(@"^trellis (?<version>\d+\.\d+\.\d+)\ncommit  (?<commit>\S+)\nruntime \.NET \d")]
    private static partial Regex VersionOutput();

    [GeneratedRegex(@"server key:\s+(\S+)")]
    private static partial Regex ServerKeyLine();
}
