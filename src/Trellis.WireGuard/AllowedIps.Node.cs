namespace Trellis.WireGuard;

// The immutable, path-compressed trie behind AllowedIps<T>: see the remarks on the class.
public sealed partial class AllowedIps<T>
{
    /// <summary>
    /// An immutable trie node. Invariant: a node has an owner, or two children, or both; its
    /// children extend its prefix, Left with bit <see cref="Cidr"/> clear and Right with it set.
    /// </summary>
    private sealed class Node
    {
        public readonly UInt128 Key;       // masked to Cidr bits
        public readonly UInt128 Mask;      // Cidr leading ones
        public readonly UInt128 ChildBit;  // the bit after the prefix; zero when Cidr == 128
        public readonly int Cidr;
        public readonly T? Value;
        public readonly Node? Left;
        public readonly Node? Right;

        private Node(UInt128 key, int cidr, T? value, Node? left, Node? right)
        {
            Mask = MaskOf(cidr);
            Key = key & Mask;
            ChildBit = cidr < IPv6Bits ? UInt128.One << (IPv6Bits - 1 - cidr) : UInt128.Zero;
            Cidr = cidr;
            Value = value;
            Left = left;
            Right = right;
        }

        public static UInt128 MaskOf(int cidr) =>
            cidr == 0 ? UInt128.Zero : UInt128.MaxValue << (IPv6Bits - cidr);

        private static bool BitAt(UInt128 key, int index) =>
            (key & (UInt128.One << (IPv6Bits - 1 - index))) != UInt128.Zero;

        private Node With(T? value) => new(Key, Cidr, value, Left, Right);

        private Node WithChild(bool right, Node? child) =>
            right ? new(Key, Cidr, Value, Left, child) : new(Key, Cidr, Value, child, Right);

        /// <summary>Returns a trie equal to <paramref name="node"/> plus key/cidr owned by value.</summary>
        public static Node Insert(Node? node, UInt128 key, int cidr, T value)
        {
            if (node is null)
            {
                return new Node(key, cidr, value, null, null);
            }

            var common = Math.Min((int)UInt128.LeadingZeroCount(key ^ node.Key), Math.Min(cidr, node.Cidr));
            if (common == node.Cidr)
            {
                if (cidr == node.Cidr)
                {
                    return node.With(value);    // same prefix: replace the owner
                }

                // The new prefix lies below this node.
                var right = BitAt(key, node.Cidr);
                return node.WithChild(right, Insert(right ? node.Right : node.Left, key, cidr, value));
            }

            if (common == cidr)
            {
                // The new prefix contains this node's prefix: it becomes its parent.
                return BitAt(node.Key, cidr)
                    ? new Node(key, cidr, value, null, node)
                    : new Node(key, cidr, value, node, null);
            }

            // The prefixes diverge at bit `common`: join them under an owner-less branch node.
            var leaf = new Node(key, cidr, value, null, null);
            return BitAt(key, common)
                ? new Node(key, common, null, node, leaf)
                : new Node(key, common, null, leaf, node);
        }

        /// <summary>Returns a trie equal to <paramref name="node"/> without the exact prefix key/cidr.</summary>
        public static Node? Remove(Node? node, UInt128 key, int cidr)
        {
            if (node is null || node.Cidr > cidr || ((key ^ node.Key) & node.Mask) != UInt128.Zero)
            {
                return node;    // not present
            }

            if (node.Cidr == cidr)
            {
                return node.Value is null ? node : Compact(node.With(null));
            }

            var right = BitAt(key, node.Cidr);
            var child = right ? node.Right : node.Left;
            var newChild = Remove(child, key, cidr);
            return ReferenceEquals(child, newChild) ? node : Compact(node.WithChild(right, newChild));
        }

        /// <summary>Drops an owner-less node with fewer than two children (the path compression invariant).</summary>
        private static Node? Compact(Node node) =>
            node.Value is not null || (node.Left is not null && node.Right is not null)
                ? node
                : node.Left ?? node.Right;
    }
}
