using System.Net;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>The UPnP client against a fake IGD on loopback: discovery, the address, and the retries on 725 and 718.</summary>
public sealed class UpnpClientTests
{
    private const string Type = "urn:schemas-upnp-org:service:WANIPConnection:1";

    private const string Description = $"""
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList><service>
        <serviceType>{Type}</serviceType><controlURL>/ctl/IPConn</controlURL>
        </service></serviceList></device></root>
        """;

    [Fact]
    public async Task A_gateway_that_wants_permanent_leases_and_has_the_port_taken_still_maps()
    {
        var adds = 0;
        using var igd = new UpnpFakeIgd((action, body) => action switch
        {
            "GET /rootDesc.xml" => (200, Description),
            Type + "#GetExternalIPAddress" => (200, Response("GetExternalIPAddress", "<NewExternalIPAddress>198.51.100.2</NewExternalIPAddress>")),
            Type + "#AddPortMapping" => Interlocked.Increment(ref adds) switch
            {
                1 => (500, Fault(UpnpSoap.OnlyPermanentLeasesSupported)),
                2 => (500, Fault(UpnpSoap.ConflictInMappingEntry)),
                _ => (200, Response("AddPortMapping", "")),
            },
            Type + "#DeletePortMapping" => (200, Response("DeletePortMapping", "")),
            _ => (404, ""),
        });
        var client = Patient(igd);

        var mapping = await client.MapUdpAsync(41641, TimeSpan.FromHours(1));

        Assert.True(mapping is not null, client.LastError);
        Assert.Equal(PortMappingProtocol.Upnp, mapping.Protocol);
        Assert.Equal(IPAddress.Parse("198.51.100.2"), mapping.External.Address);
        Assert.NotEqual(41641, mapping.External.Port);
        Assert.Equal(TimeSpan.FromHours(1), mapping.Lifetime);
        var bodies = igd.Requests.Where(r => r.Action.EndsWith("#AddPortMapping", StringComparison.Ordinal)).Select(r => r.Body).ToList();
        Assert.Contains("<NewExternalPort>41641</NewExternalPort>", bodies[0], StringComparison.Ordinal);
        Assert.Contains("<NewLeaseDuration>3600</NewLeaseDuration>", bodies[0], StringComparison.Ordinal);
        Assert.Contains("<NewLeaseDuration>0</NewLeaseDuration>", bodies[1], StringComparison.Ordinal);
        Assert.Contains("<NewInternalClient>127.0.0.1</NewInternalClient>", bodies[2], StringComparison.Ordinal);
        Assert.DoesNotContain("<NewExternalPort>41641</NewExternalPort>", bodies[2], StringComparison.Ordinal);

        Assert.True(await client.DeleteAsync(mapping), client.LastError);
        Assert.Single(igd.Requests, r => r.Action == "GET /rootDesc.xml"); // the control URL was remembered
    }

    [Fact]
    public async Task No_gateway_is_null_after_the_discovery_timeout()
    {
        var client = new UpnpClient(IPAddress.Loopback) { SsdpPort = 9, DiscoveryTimeout = TimeSpan.FromMilliseconds(300) };

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));
        Assert.Contains("SSDP", client.LastError, StringComparison.Ordinal);
    }

    /// <summary>
    /// A machine so busy that the discovery timeout runs out between the loop's check and the wait
    /// after the sends, by between 1 and 2 ms: a wait of -1 ms is an infinite one, and the search hung
    /// (as it did twice in a full run of this assembly at load 30).
    /// </summary>
    [Fact]
    public async Task A_timeout_that_runs_out_during_the_sends_ends_the_search()
    {
        var clock = new JumpingClock(TimeSpan.FromMilliseconds(150.5));
        var client = new UpnpClient(IPAddress.Loopback, clock) { SsdpPort = 9, DiscoveryTimeout = TimeSpan.FromMilliseconds(300) };

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("SSDP", client.LastError, StringComparison.Ordinal);
    }

    /// <summary>
    /// Waits for the fake gateway as long as a failing test can afford: its answers end each wait, and
    /// with the 1 s and 2 s defaults a busy machine's stall would end the mapping with "no answer".
    /// </summary>
    internal static UpnpClient Patient(UpnpFakeIgd igd) =>
        new(IPAddress.Loopback) { SsdpPort = igd.SsdpPort, DiscoveryTimeout = TimeSpan.FromSeconds(60), HttpTimeout = TimeSpan.FromSeconds(60) };

    private static string Response(string action, string arguments) =>
        $"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:{action}Response xmlns:u="{Type}">{arguments}</u:{action}Response></s:Body></s:Envelope>""";

    private static string Fault(int code) =>
        $"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode><errorDescription>x</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>""";

    /// <summary>A clock each reading of which is <paramref name="step"/> later than the one before; timers are the system's.</summary>
    private sealed class JumpingClock(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks);
    }
}
