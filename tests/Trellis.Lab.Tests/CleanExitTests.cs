using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>Stopping the daemon the way a service manager or a terminal does leaves nothing behind.</summary>
public sealed class CleanExitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(10);

    public static TheoryData<Implementation, UnixSignal> Cases => new()
    {
        { Implementation.WireGuardGo, UnixSignal.Terminate },
        { Implementation.WireGuardGo, UnixSignal.Interrupt },
        { Implementation.Trellis, UnixSignal.Terminate },
        { Implementation.Trellis, UnixSignal.Interrupt },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_signal_removes_the_socket_and_the_interface(Implementation implementation, UnixSignal signal)
    {
        LabRequirements.EnsureAvailable();
        await using var ns = await NetNamespace.CreateAsync();
        await using var device = await WireGuardInterface.StartAsync(ns, implementation);
        var keys = await WireGuardKeyPair.GenerateAsync();
        var peer = await WireGuardKeyPair.GenerateAsync();
        await device.ConfigureAsync(keys.PrivateKey, TunnelLab.ListenPortA, [new WireGuardPeerConfig(peer.PublicKey)
        {
            AllowedIps = ["192.168.241.2/32"],
            Endpoint = "10.0.0.2:51821",
        }]);
        await device.AddAddressAsync(TunnelLab.InnerIPv4A);
        await device.SetUpAsync();
        Assert.True(File.Exists(device.SocketPath), $"{device.SocketPath} is missing while {device} runs");
        Assert.True(await ns.HasInterfaceAsync(device.Name));

        Assert.True(device.Process.Signal(signal), $"{device} had exited before {signal}: {device.Process.Output}");
        var exitCode = await device.Process.WaitForExitAsync(ExitDeadline);
        output.WriteLine($"{device} exited with {exitCode} after {signal}; output:\n{device.Process.Output}");

        Assert.Equal(0, exitCode);
        Assert.False(File.Exists(device.SocketPath), $"{device.SocketPath} is left behind");
        Assert.False(await ns.HasInterfaceAsync(device.Name), $"interface {device.Name} is left behind");
    }

    [Fact]
    public async Task Deleting_the_interface_stops_Trellis_with_a_message_and_a_failure_exit()
    {
        LabRequirements.EnsureAvailable();
        await using var ns = await NetNamespace.CreateAsync();
        await using var device = await WireGuardInterface.StartAsync(ns, Implementation.Trellis);
        (await ns.IpAsync("link", "del", device.Name)).EnsureSuccess();

        var exitCode = await device.Process.WaitForExitAsync(ExitDeadline);
        output.WriteLine(device.Process.Output);
        Assert.Equal(1, exitCode);
        Assert.Contains("the interface was deleted", device.Process.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(device.SocketPath), $"{device.SocketPath} is left behind");
    }
}
