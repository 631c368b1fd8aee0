namespace Trellis.Net;

/// <summary>
/// How many messages a receive with UDP_GRO on asks the kernel for. A merged message may hold up to
/// <see cref="UdpGsoRun.MaxSegments"/> datagrams, each of which needs a buffer of its own once split,
/// so only batch / 64 messages are sure to fit: two of 128, a system call per two datagrams from a
/// peer whose datagrams the kernel never merges (one that sends without segmentation). So the plan
/// follows what arrived: after <see cref="PlainStreak"/> receives in a row that filled what they asked
/// for and held nothing merged, it reads a full batch less the room one merged message needs; the first
/// merged message sends it back to the safe size. Only a switch to merging that brings two or more
/// merged messages at once, with more datagrams queued than the batch holds, can overflow (the
/// splitter keeps the last message's rest and counts what it drops).
/// </summary>
internal sealed class GroReadPlan
{
    /// <summary>Full receives without a merged message before the plan trusts the peer not to merge.</summary>
    public const int PlainStreak = 16;

    private int _plain;

    /// <summary>The messages to read into <paramref name="buffers"/> buffers.</summary>
    public int Messages(int buffers)
    {
        var safe = Math.Max(1, buffers / UdpGsoRun.MaxSegments);
        return _plain >= PlainStreak ? Math.Max(safe, buffers - (UdpGsoRun.MaxSegments - 1)) : safe;
    }

    /// <summary>What a receive that asked for <paramref name="asked"/> messages got.</summary>
    public void Observe(int asked, int received, bool merged)
    {
        if (merged)
        {
            _plain = 0;
        }
        else if (received == asked && _plain < PlainStreak)
        {
            _plain++;
        }
    }
}
