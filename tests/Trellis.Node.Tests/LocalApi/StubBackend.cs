using Trellis.Node.LocalApi;

namespace Trellis.Node.Tests.LocalApi;

/// <summary>A backend that answers fixed things and remembers the last up request.</summary>
internal sealed class StubBackend : ILocalApiBackend
{
    public UpRequest? LastUp { get; private set; }

    public int Downs { get; private set; }

    public StatusResponse Status() => new() { State = NodeStates.Stopped, Server = "https://stub.example/" };

    public Task<UpResponse> UpAsync(UpRequest request, CancellationToken cancellationToken)
    {
        LastUp = request;
        if (request.AuthKey == "bad")
        {
            throw new LocalApiException(LocalApiErrors.Rejected, "the server refused the registration: invalid auth key");
        }

        return Task.FromResult(new UpResponse { State = NodeStates.Pending, ApproveHint = "trellis nodes approve 7 --user USER", Status = Status() });
    }

    public SetRequest? LastSet { get; private set; }

    public Task<PrefsResponse> SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        LastSet = request;
        return Task.FromResult(Prefs() with { AcceptRoutes = request.Settings.AcceptRoutes ?? false });
    }

    public PrefsResponse Prefs() => new() { Server = "https://stub.example/", AdvertiseRoutes = ["10.0.0.0/24"], Masquerade = true, PortGuessing = true, WantUp = true };

    public Task<StatusResponse> DownAsync(CancellationToken cancellationToken)
    {
        Downs++;
        return Task.FromResult(Status());
    }

    public Task<PingResponse> PingAsync(PingRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new PingResponse { Hostname = request.Peer, Address = "100.64.0.2", Path = "direct", Endpoint = "192.0.2.2:41641", LatencyMs = 1.5 });

    public Task<Trellis.Net.Netcheck.NetcheckReport> NetcheckAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new Trellis.Net.Netcheck.NetcheckReport { UdpV4 = true, GlobalV4 = "192.0.2.7:41641", PreferredRegion = 900 });

    public Task<StatusResponse> LogoutAsync(CancellationToken cancellationToken) =>
        throw new LocalApiException(LocalApiErrors.Unreachable, "could not log out: nobody answers; nothing was changed");
}
