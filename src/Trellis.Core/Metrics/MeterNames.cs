namespace Trellis.Core.Metrics;

/// <summary>
/// The names of Trellis's <see cref="System.Diagnostics.Metrics.Meter"/>s. The exporter publishes every
/// meter under <see cref="Prefix"/>, and a meter's name leads each of its series' names
/// (trellis.relay + forwarded_bytes_total = trellis_relay_forwarded_bytes_total).
/// </summary>
public static class MeterNames
{
    public const string Prefix = "trellis.";

    public const string Server = Prefix + "server";

    public const string Relay = Prefix + "relay";

    public const string Node = Prefix + "node";
}
