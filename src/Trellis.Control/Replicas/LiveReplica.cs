using Trellis.Core.Keys;

namespace Trellis.Control.Replicas;

/// <summary>
/// A replica alive now as its roster row says: its public URL and, when its embedded relay is on,
/// that relay's public key (which the other replicas' relays pin).
/// </summary>
public sealed record LiveReplica(string Origin, string Url, Key? RelayKey);
