using Trellis.Core.Keys;

namespace Trellis.Node.Control;

/// <summary>
/// A map held from an earlier run (the daemon's cached map) with what resuming a map session from it
/// needs: the key of the server that sent it, which the server of the new connection must prove
/// too, and the protocol level that server announced (<see cref="Core.Control.ControlProtocol.Resume"/> or more).
/// </summary>
public sealed record ResumableMap(NetMap Map, Key ServerKey, int ServerProtocol);
