using Trellis.Core.Build;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto.Noise;

namespace Trellis.Node.Control;

/// <summary>
/// The node's endpoint reports (with its home relay region, whether it relays for peers and whether its NAT maps per destination). Gathering and sending happen under one lock, so a report gathered
/// before an address change can never reach the server after the report gathered after it: the
/// server would keep the stale list, and peers would punch towards it until the next change.
/// </summary>
public sealed partial class ControlClient
{
    private readonly SemaphoreSlim _endpointLock = new(1, 1);

    // guarded by _endpointLock: the stream the server last heard our endpoints on, and what it heard
    private NoiseControlChannel? _endpointsStream;
    private IReadOnlyList<string> _endpointsSent = [];
    private int _homeRelaySent;
    private bool _peerRelaySent;
    private bool _mappingVariesSent;

    /// <summary>Gathers the node's endpoints now (<see cref="ControlClientOptions.Endpoints"/>) and reports them if the server has not heard them.</summary>
    public Task RefreshEndpointsAsync(CancellationToken cancellationToken) => ReportEndpointsAsync(null, cancellationToken);

    /// <summary>Reports these endpoints if the server has not heard them; while no map stream is open the next map request gathers afresh.</summary>
    public Task UpdateEndpointsAsync(IReadOnlyList<string> endpoints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return ReportEndpointsAsync(endpoints, cancellationToken);
    }

    private async Task ReportEndpointsAsync(IReadOnlyList<string>? given, CancellationToken cancellationToken)
    {
        await _endpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_streaming is not { } stream)
            {
                return;
            }

            var endpoints = given ?? _options.Endpoints();
            var homeRelay = _options.HomeRelay();
            var peerRelay = _options.OffersPeerRelay();
            var mappingVaries = _options.MappingVaries();
            if (ReferenceEquals(stream, _endpointsStream) && _endpointsSent.SequenceEqual(endpoints) && _homeRelaySent == homeRelay
                && _peerRelaySent == peerRelay && _mappingVariesSent == mappingVaries)
            {
                return;
            }

            var update = new EndpointUpdate { Endpoints = endpoints, HomeRelay = homeRelay, PeerRelay = peerRelay, MappingVaries = mappingVaries };
            if (await TrySendAsync(stream, update, cancellationToken).ConfigureAwait(false))
            {
                _endpointsStream = stream;
                _endpointsSent = endpoints;
                _homeRelaySent = homeRelay;
                _peerRelaySent = peerRelay;
                _mappingVariesSent = mappingVaries;
            }
        }
        finally
        {
            _endpointLock.Release();
        }
    }

    /// <summary>
    /// The map a resume starts from: this client's own from an earlier stream, else the one held from
    /// an earlier run if this server proved the key it came with; null (a full map) when there is none,
    /// the server did not announce <see cref="ControlProtocol.Resume"/> or the map is too large to describe.
    /// </summary>
    private ResumableMap? ResumeBasis(Key serverKey)
    {
        var basis = Current is { } current ? new ResumableMap(current, serverKey, ServerProtocol) : _held is { } held && held.ServerKey == serverKey ? held : null;
        return basis is not null && basis.ServerProtocol >= ControlProtocol.Resume && basis.Map.Peers.Count <= MaxResumePeers ? basis : null;
    }

    // About 22 bytes of base64 per peer: past this the request would near the server's cap on what a
    // node may send (MessageFramer.MaxNodeMessage), and a full map is asked for instead.
    private const int MaxResumePeers = MessageFramer.MaxNodeMessage / 32;

    /// <summary>Asks for the map stream with the endpoints as of now; a report waiting meanwhile is compared with these once the stream is open.</summary>
    private async Task OpenMapStreamAsync(NoiseControlChannel stream, Key serverKey, CancellationToken cancellationToken)
    {
        await _endpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var endpoints = _options.Endpoints();
            var homeRelay = _options.HomeRelay();
            var peerRelay = _options.OffersPeerRelay();
            var mappingVaries = _options.MappingVaries();
            _described = ResumeBasis(serverKey);
            var resume = _described is { Map: var held } ? MapDigest.Resume([.. held.Peers.Values], held.OverlayPrefixes, held.Dns) : null;
            var request = new MapRequest { Endpoints = endpoints, HomeRelay = homeRelay, PeerRelay = peerRelay, MappingVaries = mappingVaries, Protocol = ControlProtocol.Current, Version = BuildInfo.Short, Resume = resume };
            await stream.SendAsync(request, cancellationToken).ConfigureAwait(false);
            _endpointsStream = stream;
            _endpointsSent = endpoints;
            _homeRelaySent = homeRelay;
            _peerRelaySent = peerRelay;
            _mappingVariesSent = mappingVaries;
            _streaming = stream;
        }
        finally
        {
            _endpointLock.Release();
        }
    }
}
