using System.Net;
using System.Text.Json;
using Trellis.Net.Netcheck;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Netcheck;

/// <summary>
/// A <see cref="NatLab"/> with two `trellis stun` servers on the internet at two different public
/// addresses (each dual-stack), which is what telling an easy NAT from a hard one takes.
/// </summary>
public sealed class StunLab : IAsyncDisposable
{
    public const int StunPort = 3478;

    // A safety net only (see LabControlServer.StartTimeout).
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    private readonly ITestOutputHelper _output;
    private readonly List<LabProcess> _servers = [];

    private StunLab(NatLab lab, ITestOutputHelper output)
    {
        Lab = lab;
        _output = output;
    }

    public NatLab Lab { get; }

    public NatHost ServerA { get; private set; } = null!;

    public NatHost ServerB { get; private set; } = null!;

    /// <summary>Builds the internet and starts both STUN servers; fails with the reason when the lab cannot run here.</summary>
    public static async Task<StunLab> StartAsync(ITestOutputHelper output, params string[] extraTools)
    {
        LabRequirements.EnsureAvailable([.. NatLab.RequiredTools, .. extraTools]);
        await LeftoversDeleted.Value;
        var lab = await NatLab.CreateAsync();
        var stun = new StunLab(lab, output);
        try
        {
            stun.ServerA = await lab.AddPublicHostAsync();
            stun.ServerB = await lab.AddPublicHostAsync();
            await Task.WhenAll(stun.StartTrellisStunAsync(stun.ServerA), stun.StartTrellisStunAsync(stun.ServerB));
            return stun;
        }
        catch
        {
            await stun.DisposeAsync();
            throw;
        }
    }

    /// <summary>--stun arguments for both servers over the families asked for.</summary>
    public string[] StunArguments(bool ipv4 = true, bool ipv6 = false) =>
    [
        .. new[] { ServerA, ServerB }.SelectMany(s => new[]
        {
            ipv4 ? s.IPv4!.Endpoint(StunPort) : null,
            ipv6 ? s.IPv6!.Endpoint(StunPort) : null,
        }).OfType<string>().SelectMany(e => new[] { "--stun", e }),
    ];

    /// <summary>Runs `trellis netcheck ARGS --json` inside <paramref name="host"/> and returns its report.</summary>
    public async Task<NetcheckReport> NetcheckAsync(NatHost host, params string[] arguments)
    {
        var trellis = TrellisExecutable.Locate();
        var result = await host.Namespace.ExecAsync(
            trellis.FileName,
            [.. trellis.LeadingArguments, "netcheck", .. arguments, "--json"],
            CommandOptions.Default);
        _output.WriteLine($"netcheck in {host}: {result}");
        result.EnsureSuccess();
        return JsonSerializer.Deserialize(result.StandardOutput, NetcheckJsonContext.Default.NetcheckReport)!;
    }

    /// <summary>Starts `trellis stun` inside a host and waits until it has bound its socket.</summary>
    public async Task<LabProcess> StartTrellisStunAsync(NatHost host, int port = StunPort)
    {
        var trellis = TrellisExecutable.Locate();
        var process = host.Namespace.StartProcess(trellis.FileName, [.. trellis.LeadingArguments, "stun", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        lock (_servers)
        {
            _servers.Add(process);
        }

        await Poll.UntilAsync(
            () => process.Output.Contains("listening on UDP port", StringComparison.Ordinal) || process.HasExited,
            StartTimeout,
            $"trellis stun in {host}");
        Assert.False(process.HasExited, $"trellis stun exited: {process.Output}");
        return process;
    }

    /// <summary>The IP address part of "a.b.c.d:port" or "[v6]:port".</summary>
    public static IPAddress AddressOf(string? endpoint)
    {
        Assert.NotNull(endpoint);
        return IPEndPoint.Parse(endpoint).Address;
    }

    public async ValueTask DisposeAsync()
    {
        LabProcess[] servers;
        lock (_servers)
        {
            servers = [.. _servers];
        }

        foreach (var server in servers)
        {
            await server.StopAsync();
            _output.WriteLine($"--- {server.CommandLine} ---\n{server.Output.TrimEnd()}");
        }

        await Lab.DisposeAsync();
    }
}
