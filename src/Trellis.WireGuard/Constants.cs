namespace Trellis.WireGuard;

/// <summary>The protocol's constants, named as in the WireGuard paper and its reference implementations.</summary>
public static class Constants
{
    public const string Construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
    public const string Identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
    public const string LabelMac1 = "mac1----";
    public const string LabelCookie = "cookie--";

    public const ulong RekeyAfterMessages = 1UL << 60;
    public const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13);

    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan RekeyAttemptTime = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan RekeyTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan RekeyTimeoutJitterMax = TimeSpan.FromMilliseconds(334);
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);
    public static readonly TimeSpan KeepaliveTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CookieRefreshTime = TimeSpan.FromSeconds(120);

    /// <summary>Initiations from one peer closer together than this are dropped (flood protection).</summary>
    public static readonly TimeSpan HandshakeInitiationRate = TimeSpan.FromMilliseconds(20);

    /// <summary>Once the handshake queue was long, mac2 stays required for this long.</summary>
    public static readonly TimeSpan UnderLoadAfterTime = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a batch pool lets go of the batches its busiest moment in the interval did not need
    /// (not WireGuard's: Trellis's own). Long enough that steady traffic never pays for a batch twice.
    /// </summary>
    public static readonly TimeSpan BatchTrimInterval = TimeSpan.FromSeconds(30);

    /// <summary>Retransmits before giving up: RekeyAttemptTime / RekeyTimeout.</summary>
    public const int MaxTimerHandshakes = 90 / 5;

    public const int PaddingMultiple = 16;
    public const int DefaultMtu = 1420;

    /// <summary>Packets waiting for a session, per peer.</summary>
    public const int QueueStagedSize = 128;

    /// <summary>Handshake messages waiting for the handshake worker; the queue 1/8 full means "under load".</summary>
    public const int QueueHandshakeSize = 1024;

    /// <summary>Under load, handshake messages per second allowed from one source, and the burst.</summary>
    public const int RateLimitPacketsPerSecond = 20;
    public const int RateLimitBurst = 5;
}
