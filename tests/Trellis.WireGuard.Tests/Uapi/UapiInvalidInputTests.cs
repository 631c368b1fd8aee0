using System.Security.Cryptography;
using System.Text;
using Trellis.Core.Keys;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

public sealed class UapiInvalidInputTests
{
    private static readonly string s_peer = Key.FromBase64("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=").ToHex();

    [Theory]
    [InlineData("private_key=zz")]
    [InlineData("private_key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    [InlineData("private_key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00")]
    [InlineData("private_key=")]
    [InlineData("listen_port=65536")]
    [InlineData("listen_port=-1")]
    [InlineData("listen_port=+5")]
    [InlineData("listen_port= 5")]
    [InlineData("listen_port=0x10")]
    [InlineData("listen_port=")]
    [InlineData("fwmark=4294967296")]
    [InlineData("fwmark=-1")]
    [InlineData("fwmark=mark")]
    [InlineData("replace_peers=false")]
    [InlineData("replace_peers=")]
    [InlineData("unknown_key=1")]
    [InlineData("Private_key=00")]
    [InlineData("protocol_version=1")]
    [InlineData("allowed_ip=10.0.0.0/8")]
    [InlineData("public_key=abcd")]
    [InlineData("public_key=")]
    public void A_bad_device_line_is_invalid(string line)
    {
        using var t = new UapiTestDevice();
        Assert.Equal(UapiErrno.Invalid, t.Set(line + "\n\n"));
    }

    [Theory]
    [InlineData("preshared_key=1234")]
    [InlineData("endpoint=192.0.2.1")]
    [InlineData("endpoint=192.0.2.1:")]
    [InlineData("endpoint=192.0.2.1:65536")]
    [InlineData("endpoint=192.0.2.1:0")]
    [InlineData("endpoint=192.0.2:51820")]
    [InlineData("endpoint=192.0.2.01:51820")]
    [InlineData("endpoint=::1:51820")]
    [InlineData("endpoint=[192.0.2.1]:51820")]
    [InlineData("endpoint=[::1:51820")]
    [InlineData("endpoint=[::1]:")]
    [InlineData("endpoint=[%eth0]:1")]
    [InlineData("endpoint=vpn.example.com:51820")]
    [InlineData("endpoint=")]
    [InlineData("persistent_keepalive_interval=65536")]
    [InlineData("persistent_keepalive_interval=-1")]
    [InlineData("persistent_keepalive_interval=")]
    [InlineData("persistent_keepalive_interval=25s")]
    [InlineData("allowed_ip=10.0.0.0")]
    [InlineData("allowed_ip=10.0.0.0/33")]
    [InlineData("allowed_ip=10.0.0.0/-1")]
    [InlineData("allowed_ip=10.0.0.0/024")]
    [InlineData("allowed_ip=10.0.0.0/ 8")]
    [InlineData("allowed_ip=10.0.0.0/")]
    [InlineData("allowed_ip=10.0.0.256/24")]
    [InlineData("allowed_ip=010.0.0.0/8")]
    [InlineData("allowed_ip=10.0.0/8")]
    [InlineData("allowed_ip=10/8")]
    [InlineData("allowed_ip=fd00::/129")]
    [InlineData("allowed_ip=fd00::%eth0/64")]
    [InlineData("allowed_ip=[fd00::]/64")]
    [InlineData("allowed_ip=fd00:::/64")]
    [InlineData("allowed_ip=/8")]
    [InlineData("allowed_ip=")]
    [InlineData("protocol_version=2")]
    [InlineData("protocol_version=0")]
    [InlineData("protocol_version=")]
    [InlineData("remove=1")]
    [InlineData("update_only=false")]
    [InlineData("replace_allowed_ips=yes")]
    [InlineData("listen_port=51820")]
    [InlineData("private_key=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("last_handshake_time_sec=0")]
    [InlineData("tx_bytes=0")]
    [InlineData("bogus=1")]
    public void A_bad_peer_line_is_invalid(string line)
    {
        using var t = new UapiTestDevice();
        Assert.Equal(UapiErrno.Invalid, t.Set($"public_key={s_peer}\n{line}\n\n"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("public_key")]
    [InlineData("\0")]
    public void A_line_without_an_equals_sign_is_a_protocol_error(string line)
    {
        using var t = new UapiTestDevice();
        Assert.Equal(UapiErrno.Protocol, t.Set($"{line}\n"));
        Assert.Equal(UapiErrno.Protocol, t.Set($"public_key={s_peer}\n{line}\n"));
    }

    [Fact]
    public void A_zero_peer_key_is_a_peer_once_the_device_has_a_key()
    {
        using var t = new UapiTestDevice();
        var zero = new string('0', 64);

        // With no private key, our own public key is "zero": the section is ignored, as in wireguard-go.
        Assert.Equal(0, t.Set($"public_key={zero}\nallowed_ip=10.0.0.0/8\n"));
        Assert.Empty(t.Device.Peers);

        Assert.Equal(0, t.Set($"private_key={Trellis.Crypto.X25519.GeneratePrivateKey().ToHex()}\n"));
        // Then, as in the kernel and wireguard-go, it is a peer that can never handshake.
        Assert.Equal(0, t.Set($"public_key={zero}\nallowed_ip=10.0.0.0/8\n"));
        Assert.True(Assert.Single(t.Device.Peers).PublicKey.IsZero);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        using var t = new UapiTestDevice();
        var alphabet = "=\n\r:/[]%.0123456789abcdefxyz_ -\0é";
        var random = new Random(1234);
        var keys = new[] { "private_key", "listen_port", "fwmark", "replace_peers", "public_key", "preshared_key", "endpoint",
            "persistent_keepalive_interval", "replace_allowed_ips", "allowed_ip", "protocol_version", "remove", "update_only" };
        for (var i = 0; i < 2000; i++)
        {
            var sb = new StringBuilder();
            var lines = random.Next(1, 6);
            for (var j = 0; j < lines; j++)
            {
                if (random.Next(3) > 0)
                {
                    sb.Append(keys[random.Next(keys.Length)]).Append('=');
                }

                var length = random.Next(0, 70);
                for (var k = 0; k < length; k++)
                {
                    sb.Append(alphabet[random.Next(alphabet.Length)]);
                }

                sb.Append('\n');
            }

            var errno = t.Set(sb.ToString());
            Assert.True(errno <= 0);
        }

        // Still usable afterwards.
        Assert.Equal(0, t.Set("replace_peers=true\nlisten_port=0\nfwmark=0\n"));
    }

    [Fact]
    public void An_io_error_while_reading_is_reported_as_eio()
    {
        using var t = new UapiTestDevice();
        using var reader = new FailingReader($"fwmark=3\npublic_key={Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))}\n");
        Assert.Equal(UapiErrno.Io, UapiProtocol.ApplySet(t.Device, reader));
        Assert.Equal(3u, t.Device.Fwmark);
        Assert.Single(t.Device.Peers);
    }

    private sealed class FailingReader(string text) : TextReader
    {
        private readonly StringReader _inner = new(text);

        public override string? ReadLine() => _inner.ReadLine() ?? throw new IOException("connection reset");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
