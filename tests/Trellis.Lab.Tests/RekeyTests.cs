using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// netns.sh's key rotation, two ways: the protocol's own rekey after RekeyAfterTime (observed quickly
/// through Trellis's test clock), and an operator replacing one side's private key.
/// </summary>
public sealed class RekeyTests(ITestOutputHelper output)
{
    /// <summary>With this rate RekeyAfterTime (120 s) passes every 3 s of real time.</summary>
    private const int ClockRate = 40;

    private static readonly TimeSpan RekeyDeadline = TimeSpan.FromSeconds(30);

    [Theory]
    [MemberData(nameof(Pairs.WithTrellis), MemberType = typeof(Pairs))]
    public async Task Sessions_rekey_on_time_while_pings_keep_flowing(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output, clockRate: ClockRate);

        // The Trellis side (its clock runs fast) pings, so it is the initiator whose keys age.
        var pinger = a == Implementation.Trellis ? lab.A : lab.B;
        var other = lab.PeerOf(pinger);
        await lab.EstablishAsync(pinger);
        var firstAtPinger = await pinger.Device.GetLatestHandshakeAsync(other.Keys.PublicKey);
        var firstAtOther = await other.Device.GetLatestHandshakeAsync(pinger.Keys.PublicKey);
        Assert.NotEqual(0, firstAtPinger);
        Assert.NotEqual(0, firstAtOther);

        var sent = 0;
        var failures = new List<string>();
        long latestAtPinger = 0, latestAtOther = 0;
        var started = DateTime.UtcNow;
        try
        {
            await Poll.UntilAsync(
                async ct =>
                {
                    var ping = await Pinger.PingAsync(pinger.Namespace, other.InnerIPv4.Address, count: 1, waitSeconds: 2, cancellationToken: ct);
                    sent++;
                    if (!ping.AllReceived)
                    {
                        failures.Add(ping.ToString());
                    }

                    latestAtPinger = await pinger.Device.GetLatestHandshakeAsync(other.Keys.PublicKey, ct);
                    latestAtOther = await other.Device.GetLatestHandshakeAsync(pinger.Keys.PublicKey, ct);
                    return latestAtPinger > firstAtPinger && latestAtOther > firstAtOther;
                },
                RekeyDeadline,
                "a newer latest-handshake on both sides");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(
                $"{e.Message}: latest-handshakes {pinger}: {firstAtPinger} -> {latestAtPinger}, " +
                $"{other}: {firstAtOther} -> {latestAtOther}; {failures.Count} of {sent} pings failed. " +
                $"Does the Trellis side honour {WireGuardStartOptions.ClockRateVariable}={ClockRate}?",
                e);
        }

        output.WriteLine(
            $"rekey seen after {(DateTime.UtcNow - started).TotalSeconds:0.0} s and {sent} pings: " +
            $"{pinger}: {firstAtPinger} -> {latestAtPinger}, {other}: {firstAtOther} -> {latestAtOther}");

        var after = await Pinger.PingAsync(pinger.Namespace, other.InnerIPv4.Address, count: 5, waitSeconds: 2, waitForEach: true);
        Assert.True(after.AllReceived, $"pings after the rekey: {after}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} pings failed around the rekey:\n{string.Join('\n', failures)}");
    }

    [Theory]
    [MemberData(nameof(Pairs.All), MemberType = typeof(Pairs))]
    public async Task A_replaced_private_key_gets_a_fresh_handshake(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        await lab.EstablishAsync(lab.A);

        var newKeys = await WireGuardKeyPair.GenerateAsync();
        await lab.A.Device.SetPrivateKeyAsync(newKeys.PrivateKey);
        var shown = await lab.A.Device.WgAsync("show", lab.A.Device.Name, "public-key");
        Assert.Equal(newKeys.PublicKey, shown.EnsureSuccess().StandardOutput.Trim());

        // B still expects the old key: nothing from A may get through.
        var refused = await Pinger.PingAsync(lab.A.Namespace, lab.B.InnerIPv4.Address, count: 2);
        Assert.False(refused.AnyReceived, $"A's new key was accepted before B learned it: {refused}");

        await lab.B.Device.RemovePeerAsync(lab.A.Keys.PublicKey);
        await lab.B.Device.SetPeerAsync(new WireGuardPeerConfig(newKeys.PublicKey)
        {
            AllowedIps = lab.A.AllowedIps,
            Endpoint = lab.A.Endpoint(lab.Underlay),
        });

        await lab.AssertPingsAsync(lab.A, ipv6: false);
        Assert.NotEqual(0, await lab.B.Device.GetLatestHandshakeAsync(newKeys.PublicKey));
        Assert.NotEqual(0, await lab.A.Device.GetLatestHandshakeAsync(lab.B.Keys.PublicKey));
        await lab.AssertPingsAsync(lab.B, ipv6: true);
    }
}
