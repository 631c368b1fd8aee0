using System.Net;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

public sealed class UapiSetGetTests
{
    private static string Hex(Key key) => key.ToHex();

    [Fact]
    public void An_unconfigured_device_gets_nothing()
    {
        using var t = new UapiTestDevice();
        Assert.Equal("", t.Get());
    }

    [Fact]
    public void Set_then_get_round_trips_device_peers_allowed_ips_endpoints_and_keepalive()
    {
        using var t = new UapiTestDevice();
        var privateKey = X25519.GeneratePrivateKey();
        var a = UapiTestDevice.RandomKey();
        var b = UapiTestDevice.RandomKey();
        var psk = UapiTestDevice.RandomKey();

        var set =
            $"private_key={Hex(privateKey)}\n" +
            "listen_port=51820\n" +
            "fwmark=7\n" +
            $"public_key={Hex(a)}\n" +
            $"preshared_key={Hex(psk)}\n" +
            "endpoint=192.0.2.1:51820\n" +
            "persistent_keepalive_interval=25\n" +
            "allowed_ip=10.1.0.0/16\n" +
            "allowed_ip=10.2.3.4/32\n" +
            "allowed_ip=fd00:0:0:0::/64\n" +
            $"public_key={Hex(b)}\n" +
            "endpoint=[2001:db8::1]:4500\n" +
            "allowed_ip=192.168.1.77/24\n" +
            "allowed_ip=::ffff:10.9.0.0/120\n" +
            "allowed_ip=2001:db8:0:1:0:0:0:0/96\n" +
            "\n";
        Assert.Equal(0, t.Set(set));

        var expected =
            $"private_key={Hex(privateKey)}\n" +
            "listen_port=51820\n" +
            "fwmark=7\n" +
            $"public_key={Hex(a)}\n" +
            $"preshared_key={Hex(psk)}\n" +
            "protocol_version=1\n" +
            "endpoint=192.0.2.1:51820\n" +
            "last_handshake_time_sec=0\n" +
            "last_handshake_time_nsec=0\n" +
            "tx_bytes=0\n" +
            "rx_bytes=0\n" +
            "persistent_keepalive_interval=25\n" +
            "allowed_ip=10.1.0.0/16\n" +
            "allowed_ip=10.2.3.4/32\n" +
            "allowed_ip=fd00::/64\n" +
            $"public_key={Hex(b)}\n" +
            $"preshared_key={new string('0', 64)}\n" +
            "protocol_version=1\n" +
            "endpoint=[2001:db8::1]:4500\n" +
            "last_handshake_time_sec=0\n" +
            "last_handshake_time_nsec=0\n" +
            "tx_bytes=0\n" +
            "rx_bytes=0\n" +
            "persistent_keepalive_interval=0\n" +
            "allowed_ip=192.168.1.0/24\n" +
            "allowed_ip=::ffff:10.9.0.0/120\n" +
            "allowed_ip=2001:db8:0:1::/96\n";
        Assert.Equal(expected, t.Get());

        // The get output, fed back as a set, is accepted and changes nothing.
        var getAsSet = string.Join('\n', expected.Split('\n').Where(l => !l.StartsWith("last_handshake", StringComparison.Ordinal) && !l.Contains("_bytes=", StringComparison.Ordinal)));
        Assert.Equal(0, t.Set(getAsSet));
        Assert.Equal(expected, t.Get());

        var peerA = t.Device.LookupPeer(a)!;
        Assert.Equal(25, peerA.PersistentKeepaliveInterval);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:51820")), peerA.Endpoint);
        Assert.True(peerA.HasPresharedKey);
        Assert.Same(peerA, t.Device.AllowedIps.Lookup(IPAddress.Parse("10.1.200.3")));
        Assert.Same(t.Device.LookupPeer(b), t.Device.AllowedIps.Lookup(IPAddress.Parse("192.168.1.200")));
    }

    [Fact]
    public void Keys_parse_in_either_case_and_are_printed_lowercase()
    {
        using var t = new UapiTestDevice();
        var peer = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(peer).ToUpperInvariant()}\n\n"));
        Assert.Contains($"public_key={Hex(peer)}\n", t.Get(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_private_key_removes_the_identity_and_zero_or_empty_fwmark_clears_it()
    {
        using var t = new UapiTestDevice();
        Assert.Equal(0, t.Set($"private_key={Hex(X25519.GeneratePrivateKey())}\nfwmark=9\n"));
        Assert.NotNull(t.Device.PrivateKey);
        Assert.Equal(9u, t.Device.Fwmark);

        Assert.Equal(0, t.Set($"private_key={new string('0', 64)}\nfwmark=0\n"));
        Assert.Null(t.Device.PrivateKey);
        Assert.Equal(0u, t.Device.Fwmark);
        Assert.Equal("", t.Get());

        Assert.Equal(0, t.Set("fwmark=3\n"));
        Assert.Equal(0, t.Set("fwmark=\n"));
        Assert.Equal(0u, t.Device.Fwmark);
    }

    [Fact]
    public void Replace_peers_removes_every_peer_before_the_new_ones()
    {
        using var t = new UapiTestDevice();
        var a = UapiTestDevice.RandomKey();
        var b = UapiTestDevice.RandomKey();
        var c = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nallowed_ip=10.0.1.0/24\npublic_key={Hex(b)}\n"));
        Assert.Equal(2, t.Device.Peers.Count);

        Assert.Equal(0, t.Set($"replace_peers=true\npublic_key={Hex(c)}\nallowed_ip=10.0.3.0/24\n"));
        Assert.Equal([c], t.Device.Peers.Select(p => p.PublicKey));
        Assert.Null(t.Device.AllowedIps.Lookup(IPAddress.Parse("10.0.1.1")));
        Assert.Equal(1, t.Device.AllowedIps.Count);
    }

    [Fact]
    public void Remove_deletes_the_peer_and_ignores_the_rest_of_its_section()
    {
        using var t = new UapiTestDevice();
        var a = UapiTestDevice.RandomKey();
        var b = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nallowed_ip=10.0.1.0/24\npublic_key={Hex(b)}\n"));

        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nremove=true\nallowed_ip=10.0.9.0/24\nendpoint=192.0.2.9:1\n"));
        Assert.Null(t.Device.LookupPeer(a));
        Assert.NotNull(t.Device.LookupPeer(b));
        Assert.Equal(0, t.Device.AllowedIps.Count);

        // Removing a peer that does not exist is no error (wireguard-go creates it, then removes it).
        Assert.Equal(0, t.Set($"public_key={Hex(UapiTestDevice.RandomKey())}\nremove=true\n"));
        Assert.Single(t.Device.Peers);
    }

    [Fact]
    public void Update_only_changes_an_existing_peer_but_creates_none()
    {
        using var t = new UapiTestDevice();
        var existing = UapiTestDevice.RandomKey();
        var absent = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(existing)}\n"));

        Assert.Equal(0, t.Set(
            $"public_key={Hex(absent)}\nupdate_only=true\nallowed_ip=10.0.5.0/24\npersistent_keepalive_interval=10\n" +
            $"public_key={Hex(existing)}\nupdate_only=true\nendpoint=192.0.2.7:7\n"));

        Assert.Null(t.Device.LookupPeer(absent));
        Assert.Equal(0, t.Device.AllowedIps.Count);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.7:7")), t.Device.LookupPeer(existing)!.Endpoint);
    }

    [Fact]
    public void Allowed_ips_accumulate_unless_replace_allowed_ips_comes_first()
    {
        using var t = new UapiTestDevice();
        var a = UapiTestDevice.RandomKey();
        var b = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nallowed_ip=10.0.1.0/24\npublic_key={Hex(b)}\nallowed_ip=10.0.2.0/24\n"));
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nallowed_ip=10.0.3.0/24\n"));
        Assert.Equal(["10.0.1.0/24", "10.0.3.0/24"], t.Device.AllowedIps.NetworksFor(t.Device.LookupPeer(a)!).Select(n => n.ToString()));

        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nreplace_allowed_ips=true\nallowed_ip=10.0.4.0/24\nallowed_ip=fd00::1/128\n"));
        Assert.Equal(["10.0.4.0/24", "fd00::1/128"], t.Device.AllowedIps.NetworksFor(t.Device.LookupPeer(a)!).Select(n => n.ToString()));

        // A prefix moves from its old owner to the peer that claims it.
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nallowed_ip=10.0.2.0/24\n"));
        Assert.Empty(t.Device.AllowedIps.NetworksFor(t.Device.LookupPeer(b)!));

        // replace_allowed_ips with nothing after it empties the list.
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\nreplace_allowed_ips=true\n"));
        Assert.Equal(0, t.Device.AllowedIps.Count);
    }

    [Fact]
    public void A_section_for_the_devices_own_key_is_ignored()
    {
        using var t = new UapiTestDevice();
        var privateKey = X25519.GeneratePrivateKey();
        var own = X25519.PublicKey(privateKey);
        Assert.Equal(0, t.Set($"private_key={Hex(privateKey)}\npublic_key={Hex(own)}\nallowed_ip=10.0.0.0/8\nendpoint=192.0.2.1:1\n"));
        Assert.Empty(t.Device.Peers);
        Assert.Equal(0, t.Device.AllowedIps.Count);
    }

    [Fact]
    public void Setting_the_private_key_of_a_peer_removes_that_peer()
    {
        using var t = new UapiTestDevice();
        var privateKey = X25519.GeneratePrivateKey();
        Assert.Equal(0, t.Set($"public_key={Hex(X25519.PublicKey(privateKey))}\n"));
        Assert.Single(t.Device.Peers);
        Assert.Equal(0, t.Set($"private_key={Hex(privateKey)}\n"));
        Assert.Empty(t.Device.Peers);
    }

    [Fact]
    public void Keepalive_and_endpoint_change_and_clear()
    {
        using var t = new UapiTestDevice();
        var a = UapiTestDevice.RandomKey();
        Assert.Equal(0, t.Set($"public_key={Hex(a)}\npersistent_keepalive_interval=65535\nendpoint=[fe80::1%3]:51820\n"));
        var peer = t.Device.LookupPeer(a)!;
        Assert.Equal(65535, peer.PersistentKeepaliveInterval);
        Assert.Contains("endpoint=[fe80::1%3]:51820\n", t.Get(), StringComparison.Ordinal);

        Assert.Equal(0, t.Set($"public_key={Hex(a)}\npersistent_keepalive_interval=0\nendpoint=198.51.100.2:9\n"));
        Assert.Equal(0, peer.PersistentKeepaliveInterval);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.2:9")), peer.Endpoint);
    }

    [Fact]
    public void A_blank_line_ends_the_request_and_crlf_is_accepted()
    {
        using var t = new UapiTestDevice();
        Assert.Equal(0, t.Set("fwmark=4\r\n\r\nfwmark=5\n"));
        Assert.Equal(4u, t.Device.Fwmark);
    }

    [Fact]
    public void Lines_before_a_bad_line_stay_applied_and_lines_after_it_are_not()
    {
        using var t = new UapiTestDevice();
        var a = UapiTestDevice.RandomKey();
        var errno = t.Set($"fwmark=11\npublic_key={Hex(a)}\nallowed_ip=10.0.1.0/24\nallowed_ip=nonsense\nallowed_ip=10.0.2.0/24\n");
        Assert.Equal(UapiErrno.Invalid, errno);
        Assert.Equal(11u, t.Device.Fwmark);
        Assert.Equal(["10.0.1.0/24"], t.Device.AllowedIps.NetworksFor(t.Device.LookupPeer(a)!).Select(n => n.ToString()));
    }

    [Fact]
    public void Listen_port_rebinds_an_up_device_and_a_taken_port_is_address_in_use()
    {
        using var t = new UapiTestDevice();
        t.Device.Up();
        Assert.Equal(0, t.Set("listen_port=5555\n"));
        Assert.Equal(5555, t.Device.ListenPort);
        Assert.Equal(5555, t.Device.Bind.Port);
        Assert.Contains("listen_port=5555\n", t.Get(), StringComparison.Ordinal);

        using var other = t.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("10.0.0.1:0")));
        other.Open(6000);
        Assert.Equal(UapiErrno.AddressInUse, t.Set("listen_port=6000\n"));

        // A free port afterwards brings the socket back.
        Assert.Equal(0, t.Set("listen_port=5556\n"));
        Assert.Equal(5556, t.Device.Bind.Port);
    }

    [Fact]
    public void Listen_port_on_a_down_device_is_kept_for_up()
    {
        using var t = new UapiTestDevice();
        Assert.Equal(0, t.Set("listen_port=7777\n"));
        Assert.Equal("listen_port=7777\n", t.Get());
        t.Device.Up();
        Assert.Equal(7777, t.Device.Bind.Port);
    }

    [Fact]
    public void Error_codes_are_wireguard_gos_negated_errnos()
    {
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal((-5, -71, -22, -98, -55), (UapiErrno.Io, UapiErrno.Protocol, UapiErrno.Invalid, UapiErrno.AddressInUse, UapiErrno.Unknown));
        }
    }
}
