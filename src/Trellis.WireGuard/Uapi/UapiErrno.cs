namespace Trellis.WireGuard.Uapi;

/// <summary>
/// The status a configuration request ends with (<c>errno=N</c>): 0, or a negated errno exactly as
/// wireguard-go sends it. wg(8) negates the number back to name the error ("Invalid argument").
/// </summary>
public static class UapiErrno
{
    public const int Success = 0;

    /// <summary>-EIO: the request could not be read (a line too long, a broken connection).</summary>
    public static int Io { get; } = -5;

    /// <summary>-EPROTO: a line that is not <c>key=value</c>.</summary>
    public static int Protocol { get; } = -(OperatingSystem.IsLinux() ? 71 : OperatingSystem.IsMacOS() ? 100 : 92);

    /// <summary>-EINVAL: an unknown key or a value that does not parse.</summary>
    public static int Invalid { get; } = -22;

    /// <summary>-EADDRINUSE: the listen port (or firewall mark) could not be applied to the socket.</summary>
    public static int AddressInUse { get; } = -(OperatingSystem.IsLinux() ? 98 : 48);

    /// <summary>Any other failure; wireguard-go uses -55 on every platform.</summary>
    public static int Unknown { get; } = -55;
}
