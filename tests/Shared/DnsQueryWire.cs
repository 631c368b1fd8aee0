using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Trellis.Testing;

/// <summary>
/// A DNS query's wire form as the DNS library writes it (its encoder is internal, so the query is
/// sent through its client to a transport that keeps the bytes instead of sending them): for tests
/// and fuzz seeds that cut or corrupt a query. Linked into each project that needs it.
/// </summary>
public static class DnsQueryWire
{
    /// <summary>Id 0x1234 (the client picks a random one; seeds stay stable), recursion desired, one question of class IN.</summary>
    public static byte[] Query(string name, RecordType type)
    {
        var query = new DnsMessage { IsRecursionDesired = true };
        query.Questions.Add(new DnsQuestion(DomainName.Parse(name), type, RecordClass.INet));
        var transport = new CapturingTransport();
        using (var client = new DnsClient([IPAddress.Loopback], [transport], disposeTransport: false, queryTimeout: 1000))
        {
            _ = client.SendMessage(query);
        }

        var bytes = transport.Sent ?? throw new InvalidOperationException($"the DNS client sent no query for {name}");
        bytes[0] = 0x12;
        bytes[1] = 0x34;
        return bytes;
    }

    private sealed class CapturingTransport : IClientTransport, IClientConnection
    {
        public byte[]? Sent { get; private set; }

        public bool SupportsReliableTransfer => false;

        public bool SupportsMulticastTransfer => false;

        public bool SupportsPooledConnections => false;

        public ushort MaximumAllowedQuerySize => 512;

        public IClientTransport Transport => this;

        public bool IsFaulty => false;

        public Task<IClientConnection?> ConnectAsync(DnsClientEndpointInfo endpointInfo, int queryTimeout, CancellationToken token = default) =>
            Task.FromResult<IClientConnection?>(this);

        public Task<IClientConnection?> GetPooledConnectionAsync(DnsClientEndpointInfo endpointInfo, CancellationToken token = default) =>
            Task.FromResult<IClientConnection?>(null);

        public Task<bool> SendAsync(DnsRawPackage package, CancellationToken token = default)
        {
            Sent ??= package.ToArraySegment(includeLengthHeader: false).ToArray();
            return Task.FromResult(true);
        }

        public Task<DnsReceivedRawPackage?> ReceiveAsync(DnsMessageIdentification identification, CancellationToken token = default) =>
            Task.FromResult<DnsReceivedRawPackage?>(null);

        public void MarkFaulty()
        {
        }

        public void RestartIdleTimeout(TimeSpan? timeout)
        {
        }

        public void Dispose()
        {
        }
    }
}
