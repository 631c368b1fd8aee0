using System.Collections;

namespace Trellis.Control.Mesh;

/// <summary>
/// A list of ids with one left out, read through the list it comes from: a node of a class that sees
/// its own members is sent the class's shared ids without itself, and no copy of them is made for it.
/// </summary>
internal sealed class IdsExceptOne(long[] ids, int skipped) : IReadOnlyList<long>
{
    public int Count => ids.Length - 1;

    public long this[int index] => ids[index < skipped ? index : index + 1];

    public IEnumerator<long> GetEnumerator()
    {
        for (var i = 0; i < ids.Length; i++)
        {
            if (i != skipped)
            {
                yield return ids[i];
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
