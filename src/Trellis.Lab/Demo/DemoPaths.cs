namespace Trellis.Lab.Demo;

/// <summary>The path names the demo shows, read from a peer's "path" and "endpoint" in `trellis status --json`.</summary>
public static class DemoPaths
{
    public const string DirectIPv6 = "direct IPv6";
    public const string DirectIPv4 = "direct IPv4";
    public const string Relay = "relay";
    public const string None = "none";

    /// <summary>"direct" splits by the endpoint's family: an IPv6 endpoint is written "[addr]:port".</summary>
    public static string Describe(string? path, string? endpoint) => path switch
    {
        "direct" => endpoint is not null && endpoint.StartsWith('[') ? DirectIPv6 : DirectIPv4,
        "relay" => Relay,
        _ => None,
    };
}
