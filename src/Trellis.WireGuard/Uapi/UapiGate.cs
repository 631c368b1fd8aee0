using System.Runtime.CompilerServices;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// One configuration request at a time per device (wireguard-go's ipcMutex): a set is applied line by
/// line, so a get or another set must not see it half done. A semaphore, not a lock, because the
/// server holds it across awaits while a set streams in.
/// </summary>
internal static class UapiGate
{
    private static readonly ConditionalWeakTable<Device, SemaphoreSlim> s_gates = new();

    public static SemaphoreSlim For(Device device) => s_gates.GetValue(device, static _ => new SemaphoreSlim(1, 1));
}
