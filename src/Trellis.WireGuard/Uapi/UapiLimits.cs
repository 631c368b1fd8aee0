namespace Trellis.WireGuard.Uapi;

/// <summary>Bounds that keep one bad or stalled client from exhausting the server.</summary>
internal static class UapiLimits
{
    /// <summary>The longest line accepted, without its newline; a real one is under 100 bytes.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>The most a single set may stream while it holds the device's configuration gate.</summary>
    public const long MaxRequestBytes = 64L << 20;

    /// <summary>Connections served at once; further ones are closed on accept.</summary>
    public const int MaxConnections = 64;

    /// <summary>How long a read or write may wait for the client before the connection is dropped.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long disposing the server waits for connections in progress to end.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);
}
