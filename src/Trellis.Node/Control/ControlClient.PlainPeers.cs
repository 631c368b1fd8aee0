using Trellis.Core.Control;
using Trellis.Crypto.Noise;

namespace Trellis.Node.Control;

/// <summary>A gateway's reports on its plain WireGuard peers' handshakes: only news, and everything again on a new stream.</summary>
public sealed partial class ControlClient
{
    private readonly SemaphoreSlim _plainPeersLock = new(1, 1);

    // guarded by _plainPeersLock: the stream the server last heard our plain peers on, and what it concluded
    private NoiseControlChannel? _plainPeersStream;
    private IReadOnlyList<(long Id, DateTimeOffset? LastHandshake, bool Online)> _plainPeersSent = [];

    /// <summary>The <see cref="ControlProtocol"/> level the server announced in the latest full map (0: an older server).</summary>
    internal int ServerProtocol { get; private set; }

    /// <summary>Reports the plain peers' handshakes if the server would conclude something it has not heard on this stream.</summary>
    public async Task ReportPlainPeersAsync(IReadOnlyList<PlainPeerSighting> sightings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sightings);
        await _plainPeersLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A server from before the reports would end the connection over a message it cannot parse.
            if (_streaming is not { } stream || ServerProtocol < ControlProtocol.PlainPeerReports)
            {
                return;
            }

            var gist = PlainPeerSightings.Gist(sightings, now);
            var heard = ReferenceEquals(stream, _plainPeersStream) ? _plainPeersSent : [];
            if (gist.SequenceEqual(heard))
            {
                return;
            }

            if (await TrySendAsync(stream, PlainPeerSightings.Report(sightings, now), cancellationToken).ConfigureAwait(false))
            {
                _plainPeersStream = stream;
                _plainPeersSent = gist;
            }
        }
        finally
        {
            _plainPeersLock.Release();
        }
    }
}
