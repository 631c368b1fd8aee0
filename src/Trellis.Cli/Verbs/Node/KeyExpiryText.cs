using Trellis.Cli.Verbs.Admin;
using Trellis.Core;
using Trellis.Core.Control;

namespace Trellis.Cli.Verbs.Node;

/// <summary>How `trellis status` and `trellis up` speak of the node key's expiry: a warning once it is near.</summary>
internal static class KeyExpiryText
{
    public const string RenewCommand = "trellis up --force-reauth";

    public static string Describe(DateTimeOffset expiry, DateTimeOffset now)
    {
        var left = expiry - now;
        if (left <= TimeSpan.Zero)
        {
            return $"node key: expired {AdminText.Time(expiry)}; the node asks to be registered again (see above)";
        }

        return left < NodeKeyExpiry.WarnBefore
            ? $"warning: this node's key expires {AdminText.Time(expiry)} (in {Durations.Describe(left)}); renew it before then with: {RenewCommand}"
            : $"node key expires {AdminText.Time(expiry)} (in {Durations.Describe(left)})";
    }
}
