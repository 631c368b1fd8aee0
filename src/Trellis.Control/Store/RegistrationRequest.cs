using Trellis.Core.Keys;

namespace Trellis.Control.Store;

/// <summary>
/// What a node asks for when it registers. The machine key has already been proven by the Noise
/// channel; the auth key (if any) is what this request proves about its right to join.
/// </summary>
public sealed record RegistrationRequest(
    string? AuthKey,
    Key MachineKey,
    Key NodeKey,
    Key DiscoKey,
    string? Hostname,
    IReadOnlyList<string>? AdvertisedRoutes = null);
