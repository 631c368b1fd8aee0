using System.Globalization;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>An inclusive range of ports a rule opens.</summary>
internal readonly record struct PortRange(int First, int Last)
{
    public static readonly PortRange Every = new(0, IpProtocols.MaxPort);

    public static readonly IReadOnlyList<PortRange> EveryList = [Every];

    public bool Contains(int port) => port >= First && port <= Last;

    /// <summary>"*", "22", "8000-8099" or a comma list of those, as in Tailscale's policies.</summary>
    public static IReadOnlyList<PortRange> ParseList(string text, PolicyString at)
    {
        if (text == PolicyNames.Any)
        {
            return EveryList;
        }

        var ranges = new List<PortRange>();
        foreach (var part in text.Split(','))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var range = dash < 0
                ? new PortRange(Port(part, at), Port(part, at))
                : new PortRange(Port(part[..dash], at), Port(part[(dash + 1)..], at));
            if (range.First > range.Last)
            {
                throw at.Error($"the port range '{part}' in '{at.Value}' runs backwards; write {range.Last}-{range.First}");
            }

            ranges.Add(range);
        }

        return ranges;
    }

    private static int Port(string text, PolicyString at) =>
        text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && int.Parse(text, CultureInfo.InvariantCulture) is var port && port <= IpProtocols.MaxPort
            ? port
            : throw at.Error($"'{text}' in '{at.Value}' is not a port: write *, a port (22), a range (8000-8099) or a comma list (80,443)");
}
