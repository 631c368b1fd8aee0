using System.Net;
using ARSoft.Tools.Net.Dns;

namespace Trellis.Node.Dns;

/// <summary>
/// Asks other nameservers (a split domain's, or the upstreams) on a client's behalf. The library's
/// client goes over UDP and retries a truncated answer over TCP; servers are tried in order, each
/// for at most <see cref="QueryTimeout"/>. At most <see cref="MaxConcurrent"/> questions are out at
/// once: more get SERVFAIL at once, so a flood cannot pile up sockets.
/// </summary>
internal sealed class DnsForwarder : IDisposable
{
    public const int MaxConcurrent = 128;

    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);

    public async Task<DnsMessage> ForwardAsync(DnsMessage query, IReadOnlyList<IPEndPoint> servers, CancellationToken cancellationToken)
    {
        if (servers.Count == 0 || !await _slots.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return MeshAnswers.Failure(query, ReturnCode.ServerFailure);
        }

        try
        {
            // Grouped by port: the library's transports have one port each.
            foreach (var group in servers.GroupBy(s => s.Port))
            {
                using var client = new DnsClient(
                    group.Select(s => s.Address),
                    [new UdpClientTransport(group.Key), new TcpClientTransport(group.Key)],
                    disposeTransport: true,
                    queryTimeout: (int)QueryTimeout.TotalMilliseconds);
                var outgoing = new DnsMessage { IsRecursionDesired = query.IsRecursionDesired, IsCheckingDisabled = query.IsCheckingDisabled };
                outgoing.Questions.AddRange(query.Questions);
                var answer = await client.SendMessageAsync(outgoing, cancellationToken).ConfigureAwait(false);
                if (answer is not null)
                {
                    return Relay(query, answer);
                }
            }

            return MeshAnswers.Failure(query, ReturnCode.ServerFailure);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>The nameserver's answer under the client's own id and question.</summary>
    private static DnsMessage Relay(DnsMessage query, DnsMessage answer)
    {
        var response = query.CreateResponseInstance();
        response.ReturnCode = answer.ReturnCode;
        response.IsRecursionAllowed = answer.IsRecursionAllowed;
        response.IsAuthenticData = answer.IsAuthenticData;
        response.AnswerRecords.AddRange(answer.AnswerRecords);
        response.AuthorityRecords.AddRange(answer.AuthorityRecords);
        response.AdditionalRecords.AddRange(answer.AdditionalRecords.Where(r => r.RecordType != RecordType.Opt));
        return response;
    }
}
