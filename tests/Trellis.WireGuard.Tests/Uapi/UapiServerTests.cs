using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Trellis.Crypto;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

[UnsupportedOSPlatform("windows")]
public sealed class UapiServerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "trellis-uapi-" + Guid.NewGuid().ToString("N")[..12], "run");
    private readonly UapiTestDevice _device = new();

    public void Dispose()
    {
        _device.Dispose();
        var root = Path.GetDirectoryName(_directory)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private UapiServer StartServer(string name = "wgtest0") => new(_device.Device, name, _directory);

    private static Task<UapiTestClient> ConnectAsync(string path) => UapiTestClient.ConnectAsync(path);

    [Fact]
    public async Task Get_and_set_over_the_socket_answer_as_wireguard_go()
    {
        using var server = StartServer();
        var privateKey = X25519.GeneratePrivateKey();
        var peer = UapiTestDevice.RandomKey();

        using (var socket = await ConnectAsync(server.SocketPath))
        {
            await socket.SendAsync($"set=1\nprivate_key={privateKey.ToHex()}\nlisten_port=40123\npublic_key={peer.ToHex()}\nallowed_ip=10.7.0.0/16\n\n");
            Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        }

        Assert.Equal(privateKey, _device.Device.PrivateKey);
        Assert.NotNull(_device.Device.LookupPeer(peer));

        using (var socket = await ConnectAsync(server.SocketPath))
        {
            await socket.SendAsync("get=1\n\n");
            Assert.Equal(_device.Get() + "errno=0\n\n", await socket.ReceiveResponseAsync());
        }
    }

    [Fact]
    public async Task One_connection_carries_several_requests()
    {
        using var server = StartServer();
        using var socket = await ConnectAsync(server.SocketPath);

        await socket.SendAsync("set=1\nfwmark=42\n\n");
        Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        await socket.SendAsync("get=1\n\n");
        Assert.Equal("fwmark=42\nerrno=0\n\n", await socket.ReceiveResponseAsync());

        // Both requests written at once are answered in order.
        await socket.SendAsync("set=1\nfwmark=43\n\nget=1\n\n");
        Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        Assert.Equal("fwmark=43\nerrno=0\n\n", await socket.ReceiveResponseAsync());
    }

    [Fact]
    public async Task A_failed_set_answers_its_errno_at_once_and_the_connection_stays_usable()
    {
        using var server = StartServer();
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync("set=1\nfwmark=5\nprotocol_version=2\n");
        Assert.Equal($"errno={UapiErrno.Invalid}\n\n", await socket.ReceiveResponseAsync());

        // The rest of the failed request is skipped, not applied; the next request is served.
        await socket.SendAsync("fwmark=6\n\nget=1\n\n");
        Assert.Equal("fwmark=5\nerrno=0\n\n", await socket.ReceiveResponseAsync());
        Assert.Equal(5u, _device.Device.Fwmark);
    }

    [Fact]
    public async Task A_get_with_a_trailing_character_is_invalid()
    {
        using var server = StartServer();
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync("get=1\nx");
        Assert.Equal("errno=-22\n\n", await socket.ReceiveResponseAsync());
    }

    [Theory]
    [InlineData("hello\n")]
    [InlineData("get=2\n\n")]
    [InlineData("set=1 \n\n")]
    [InlineData("GET=1\n\n")]
    [InlineData("get=1\r\n\r\n")]
    public async Task An_unknown_operation_closes_the_connection_without_an_answer(string request)
    {
        using var server = StartServer();
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync(request);
        Assert.True(await socket.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Overlong_lines_are_refused_without_buffering_them()
    {
        using var server = StartServer();
        using (var socket = await ConnectAsync(server.SocketPath))
        {
            await socket.SendAsync(new string('g', 5000));
            Assert.True(await socket.IsClosedByServerAsync());
        }

        using (var socket = await ConnectAsync(server.SocketPath))
        {
            await socket.SendAsync("set=1\nfwmark=8\nallowed_ip=" + new string('1', 5000) + "\n\n");
            Assert.Equal($"errno={UapiErrno.Io}\n\n", await socket.ReceiveResponseAsync());
            Assert.True(await socket.IsClosedByServerAsync());
        }

        Assert.Equal(8u, _device.Device.Fwmark);

        // A line of exactly the limit is fine.
        using (var socket = await ConnectAsync(server.SocketPath))
        {
            await socket.SendAsync("set=1\nfwmark=" + new string('0', 4096 - "fwmark=".Length - 1) + "9\n\n");
            Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        }

        Assert.Equal(9u, _device.Device.Fwmark);
    }

    [Fact]
    public async Task Connections_are_served_concurrently()
    {
        using var server = StartServer();
        using var idle = await ConnectAsync(server.SocketPath);
        await idle.SendAsync("ge");
        using var active = await ConnectAsync(server.SocketPath);
        await active.SendAsync("get=1\n\n");
        Assert.Equal("errno=0\n\n", await active.ReceiveResponseAsync());
    }

    [Fact]
    public void The_socket_is_private_its_directory_is_created_and_dispose_removes_it()
    {
        string path;
        using (var server = StartServer())
        {
            path = server.SocketPath;
            Assert.Equal(Path.Combine(_directory, "wgtest0.sock"), path);
            Assert.True(File.Exists(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var directoryMode = File.GetUnixFileMode(_directory);
            Assert.Equal(UnixFileMode.None, directoryMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, directoryMode & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_second_server_on_a_live_socket_is_refused()
    {
        using var server = StartServer("wgtest1");
        using var otherDevice = new UapiTestDevice();
        var e = Assert.Throws<InvalidOperationException>(() => new UapiServer(otherDevice.Device, "wgtest1", _directory));
        Assert.Contains("another process is already serving wgtest1", e.Message, StringComparison.Ordinal);

        // The first server is unharmed.
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync("get=1\n\n");
        Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
    }

    [Fact]
    public async Task The_socket_is_published_only_once_it_listens_and_nothing_else_is_left_in_the_directory()
    {
        // wg(8) unlinks a socket whose connect is refused; a name that appeared before listen() would be lost.
        using var server = StartServer("wgtest3");
        Assert.Equal([server.SocketPath], Directory.GetFileSystemEntries(_directory));
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync("get=1\n\n");
        Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.SocketPath));
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        Directory.CreateDirectory(_directory);
        var path = UapiServer.SocketPathFor("wgtest2", _directory);

        // Bound but not listening: the file exists and nobody answers, as after a crash.
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path));
            Assert.True(File.Exists(path));
            using var server = StartServer("wgtest2");
            using var socket = await ConnectAsync(path);
            await socket.SendAsync("get=1\n\n");
            Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        }

        // A plain file in the way is stale too.
        await File.WriteAllTextAsync(path, "");
        using (var server = StartServer("wgtest2"))
        {
            using var socket = await ConnectAsync(path);
            await socket.SendAsync("get=1\n\n");
            Assert.Equal("errno=0\n\n", await socket.ReceiveResponseAsync());
        }
    }

    [Fact]
    public async Task Dispose_drops_connections_in_progress()
    {
        var server = StartServer();
        using var socket = await ConnectAsync(server.SocketPath);
        await socket.SendAsync("set=1\nfwmark=1\n");
        await Task.Delay(100);
        server.Dispose();
        Assert.True(await socket.IsClosedByServerAsync());
        Assert.False(File.Exists(server.SocketPath));

        // The gate was released: configuration still works.
        Assert.Equal(0, _device.Set("fwmark=2\n"));
    }

    [Fact]
    public void Interface_names_that_would_escape_the_directory_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new UapiServer(_device.Device, "../etc", _directory));
        Assert.Throws<ArgumentException>(() => new UapiServer(_device.Device, "", _directory));
    }
}
