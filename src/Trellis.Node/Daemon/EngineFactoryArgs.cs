using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Tls;

namespace Trellis.Node.Daemon;

/// <summary>What the daemon hands its engine factory: the private keys stay inside this process.</summary>
/// <param name="NodePrivateKey">The WireGuard static key.</param>
/// <param name="DiscoPrivateKey">The key that seals discovery messages.</param>
/// <param name="TunName">The TUN interface to create.</param>
/// <param name="ListenPort">The UDP port to listen on (0: any free port).</param>
/// <param name="PrivateCa">A private CA the relay clients trust beside the system's roots (--ca-cert), or null.</param>
public sealed record EngineFactoryArgs(
    Key NodePrivateKey,
    Key DiscoPrivateKey,
    string TunName,
    int ListenPort,
    ILoggerFactory LoggerFactory,
    TimeProvider Time,
    PrivateCa? PrivateCa = null);
