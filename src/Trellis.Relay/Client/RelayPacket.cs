using Trellis.Core.Keys;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Client;

/// <summary>
/// A packet received through the relay, in a pooled buffer: dispose it exactly once when done
/// (its data must not be used after).
/// </summary>
public readonly struct RelayPacket : IDisposable, IEquatable<RelayPacket>
{
    private readonly byte[] _buffer;
    private readonly int _offset;

    internal RelayPacket(Key source, byte[] buffer, int offset, int length)
    {
        Source = source;
        _buffer = buffer;
        _offset = offset;
        Length = length;
    }

    /// <summary>The node key of the sender.</summary>
    public Key Source { get; }

    public int Length { get; }

    public ReadOnlyMemory<byte> Data => _buffer.AsMemory(_offset, Length);

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(_offset, Length);

    public void Dispose()
    {
        if (_buffer is not null)
        {
            FramePool.Instance.Return(_buffer);
        }
    }

    public bool Equals(RelayPacket other) => ReferenceEquals(_buffer, other._buffer) && _offset == other._offset && Length == other.Length;

    public override bool Equals(object? obj) => obj is RelayPacket other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_buffer, _offset, Length);

    public static bool operator ==(RelayPacket left, RelayPacket right) => left.Equals(right);

    public static bool operator !=(RelayPacket left, RelayPacket right) => !left.Equals(right);
}
