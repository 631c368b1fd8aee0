using Trellis.Node.Daemon;
using Trellis.Node.Engine;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// THE one place where `trellis daemon` builds its data plane: the userspace WireGuard engine on a
/// Linux TUN, configuring addresses and routes through rtnetlink. Tests of the daemon pass their own
/// factory to <see cref="NodeDaemon"/> instead.
/// </summary>
internal static class DaemonEngine
{
    /// <param name="failed">Called if the TUN or the socket fails for good; the daemon should then stop.</param>
    public static IEngine Create(EngineFactoryArgs args, Action<Exception> failed)
    {
        var os = new LinuxNetworkConfig();
        var engine = new WireGuardEngine(
            new EngineOptions
            {
                TunName = args.TunName,
                ListenPort = (ushort)args.ListenPort,
                PrivateKey = args.NodePrivateKey,
                DiscoPrivateKey = args.DiscoPrivateKey,
                Time = args.Time,
                LoggerFactory = args.LoggerFactory,
                PrivateCa = args.PrivateCa,
            },
            os);
        engine.Failed += failed;
        return engine;
    }
}
