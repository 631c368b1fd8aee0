namespace Trellis.Relay.Transport;

/// <summary>A whole frame ready to write, in a buffer rented from <see cref="FramePool.Instance"/> and owned by whoever holds it.</summary>
internal readonly record struct OutFrame(byte[] Buffer, int Offset, int Length)
{
    public bool IsEmpty => Buffer is null;

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(Offset, Length);

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(Offset, Length);

    /// <summary>A rented buffer for a frame of at most <paramref name="size"/> bytes.</summary>
    public static byte[] Rent(int size) => FramePool.Instance.Rent(size);

    /// <summary>A copy of a frame built elsewhere (handshake frames, which are rare).</summary>
    public static OutFrame Copy(ReadOnlySpan<byte> frame)
    {
        var buffer = FramePool.Instance.Rent(frame.Length);
        frame.CopyTo(buffer);
        return new OutFrame(buffer, 0, frame.Length);
    }

    public void Return()
    {
        if (Buffer is not null)
        {
            FramePool.Instance.Return(Buffer);
        }
    }
}
