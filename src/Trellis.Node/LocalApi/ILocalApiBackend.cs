namespace Trellis.Node.LocalApi;

/// <summary>What the local API serves; the daemon implements it. Failures are <see cref="LocalApiException"/>.</summary>
public interface ILocalApiBackend
{
    StatusResponse Status();

    Task<UpResponse> UpAsync(UpRequest request, CancellationToken cancellationToken);

    /// <summary>Changes settings without connecting or disconnecting.</summary>
    Task<PrefsResponse> SetAsync(SetRequest request, CancellationToken cancellationToken);

    /// <summary>The saved preferences (what `up` and `set` asked for).</summary>
    PrefsResponse Prefs();

    Task<StatusResponse> DownAsync(CancellationToken cancellationToken);

    Task<StatusResponse> LogoutAsync(CancellationToken cancellationToken);

    /// <summary>One discovery ping to a peer; a peer that does not answer in time is a <see cref="LocalApiErrors.Timeout"/>.</summary>
    Task<PingResponse> PingAsync(PingRequest request, CancellationToken cancellationToken);

    /// <summary>A netcheck against the relays of the node's current map.</summary>
    Task<Trellis.Net.Netcheck.NetcheckReport> NetcheckAsync(CancellationToken cancellationToken);
}
