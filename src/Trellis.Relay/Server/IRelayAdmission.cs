using Trellis.Core.Keys;

namespace Trellis.Relay.Server;

/// <summary>
/// Decides whether a node key may use the relay, once per connection after the client proved it
/// holds the key. The control server answers from its store; a standalone relay asks the control
/// server. Mesh peers (right mesh key) are not asked.
/// </summary>
public interface IRelayAdmission
{
    ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken);
}

/// <summary>Admits every key. For tests and benchmarks only: a real relay must know its nodes.</summary>
public sealed class AllowAllAdmissionForTesting : IRelayAdmission
{
    public static AllowAllAdmissionForTesting Instance { get; } = new();

    public ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken) => ValueTask.FromResult(true);
}
