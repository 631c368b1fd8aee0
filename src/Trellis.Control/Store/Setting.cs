namespace Trellis.Control.Store;

/// <summary>
/// A deployment-wide value chosen once and kept (the IPv6 ULA prefix, for one): generated at first
/// start rather than configured, so it must survive restarts in the database.
/// </summary>
public sealed class Setting
{
    public const string IPv6UlaPrefix = "overlay.ipv6-ula-prefix";

    public required string Key { get; set; }

    public required string Value { get; set; }
}
