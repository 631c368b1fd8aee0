using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>
/// Host DNS with systemd-resolved: per-link DNS on the Trellis interface through `resolvectl`, the
/// mesh resolver as the link's server and the base and split domains as routing domains ("~domain"),
/// so only those go to the mesh and the rest keeps the host's own servers. `resolvectl revert` undoes it,
/// and the link's settings vanish with the interface anyway.
/// </summary>
internal sealed partial class ResolvedHost(string interfaceName, ILogger logger) : IHostDns
{
    /// <summary>Where resolved lists the upstream servers it uses (not its 127.0.0.53 stub).</summary>
    public const string UpstreamsFile = "/run/systemd/resolve/resolv.conf";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);

    private string? _applied;

    /// <summary>Whether the host's resolv.conf is resolved's (a link into /run/systemd/resolve).</summary>
    public static bool IsInUse(string resolvConfPath) =>
        new FileInfo(resolvConfPath).LinkTarget is { } target && target.Contains("/run/systemd/resolve/", StringComparison.Ordinal)
        && File.Exists(UpstreamsFile);

    public IReadOnlyList<IPEndPoint> OriginalNameservers()
    {
        try
        {
            return ResolvConf.Nameservers(File.ReadAllText(UpstreamsFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Apply(DnsConfig config)
    {
        var domains = config.SplitDns.Keys.Prepend(config.BaseDomain).Select(d => "~" + d).Concat(config.SearchDomains).Distinct().ToArray();
        var key = string.Join(' ', domains);
        if (_applied == key)
        {
            return;
        }

        Run(["dns", interfaceName, MeshResolverAddress.IPv4.ToString(), MeshResolverAddress.IPv6.ToString()]);
        Run(["domain", interfaceName, .. domains]);
        _applied = key;
        LogApplied(logger, interfaceName, key);
    }

    public void Restore()
    {
        if (_applied is null)
        {
            return;
        }

        _applied = null;
        Run(["revert", interfaceName]);
    }

    private static void Run(string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("resolvectl", arguments) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new IOException("could not start resolvectl");
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill();
            throw new IOException($"resolvectl {string.Join(' ', arguments)} gave no answer within {CommandTimeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            throw new IOException($"resolvectl {string.Join(' ', arguments)} failed: {error.Result.Trim()}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "systemd-resolved sends {Domains} on {Interface} to the mesh resolver")]
    private static partial void LogApplied(ILogger logger, string @interface, string domains);
}
