using System.Collections;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Trellis.Core.Control;

/// <summary>
/// A fixed list of strings that keeps its own JSON encoding. A policy rule's source prefixes are one
/// list shared by the filters of every node the rule reaches (hundreds of addresses, thousands of
/// nodes): encoded once here and copied into each node's message, instead of encoded once per node.
/// Written by <see cref="StringListConverter"/>; read back as an ordinary list.
/// </summary>
public sealed class EncodedStringList : IReadOnlyList<string>
{
    // Well under MessageFramer.MaxChunk, so the writer always finds room for a piece in one segment.
    private const int PieceBytes = 16 * 1024;

    private readonly string[] _items;
    private byte[][]? _pieces; // computed on first write; a race computes the same bytes twice

    public EncodedStringList(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = [.. items];
    }

    public int Count => _items.Length;

    public string this[int index] => _items[index];

    /// <summary>The items as JSON string values joined by commas, cut between items into pieces of bounded size.</summary>
    internal byte[][] Pieces => _pieces ??= Encode(_items);

    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static byte[][] Encode(string[] items)
    {
        var pieces = new List<byte[]>();
        var piece = new List<byte>(Math.Min(PieceBytes, items.Length * 32));
        foreach (var item in items)
        {
            // The serializer's own default escaping, so the bytes are what it would have written.
            var text = JsonEncodedText.Encode(item, JavaScriptEncoder.Default).EncodedUtf8Bytes;
            if (piece.Count > 0 && piece.Count + text.Length + 3 > PieceBytes)
            {
                pieces.Add([.. piece]);
                piece.Clear();
            }

            if (piece.Count > 0)
            {
                piece.Add((byte)',');
            }

            piece.Add((byte)'"');
            foreach (var b in text)
            {
                piece.Add(b);
            }

            piece.Add((byte)'"');
        }

        if (piece.Count > 0)
        {
            pieces.Add([.. piece]);
        }

        return [.. pieces];
    }
}
