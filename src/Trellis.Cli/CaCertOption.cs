using System.CommandLine;
using Trellis.Core.Tls;

namespace Trellis.Cli;

/// <summary>--ca-cert FILE, worded alike on every verb that opens TLS connections (daemon, relay, admin verbs).</summary>
internal static class CaCertOption
{
    public const string Name = "--ca-cert";

    /// <param name="what">What the CA vouches for on this verb, e.g. "the control server's certificate".</param>
    public static Option<string?> Create(string what, bool recursive = false) => new(Name)
    {
        Description = $"A private CA (PEM file) to trust for {what}, beside the system's roots (default: ${PrivateCa.EnvironmentVariable}).",
        Recursive = recursive,
    };
}
