using System.Globalization;

namespace Trellis.Lab.Tests;

/// <summary>An iperf3 server in a namespace, returned once it listens (a client started earlier is refused).</summary>
internal static class IperfServer
{
    /// <param name="once">Serve one test and exit (<c>-1</c>).</param>
    public static async Task<LabProcess> StartAsync(NetNamespace where, int port, bool once = false)
    {
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var server = where.StartProcess("iperf3", once ? ["-s", "-1", "-p", portText] : ["-s", "-p", portText]);
        try
        {
            await Poll.UntilAsync(
                async ct =>
                {
                    Assert.False(server.HasExited, $"iperf3 server exited: {server.Output}");
                    var listening = await where.ExecAsync("ss", ["-Hltn", "sport", "=", $":{portText}"], CommandOptions.Default, ct);
                    return listening.Succeeded && listening.StandardOutput.Trim().Length > 0;
                },
                TimeSpan.FromSeconds(10),
                "the iperf3 server to listen");
            return server;
        }
        catch
        {
            await server.StopAsync();
            throw;
        }
    }
}
