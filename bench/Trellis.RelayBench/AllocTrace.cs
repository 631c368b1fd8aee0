using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Trellis.RelayBench;

/// <summary>
/// ALLOC_TRACE=1 in the relay process: counts the runtime's allocation-tick events (one per ~100 KB
/// allocated) by type, printed when the relay quits, to find what allocates on the forwarding path.
/// </summary>
internal sealed class AllocTrace : EventListener
{
    public static readonly ConcurrentDictionary<string, long> Types = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && e.Payload is { } p)
        {
            var name = e.PayloadNames!.IndexOf("TypeName") is var i and >= 0 ? p[i]?.ToString() ?? "?" : "?";
            Types.AddOrUpdate(name, 1, (_, v) => v + 1);
        }
    }
}
