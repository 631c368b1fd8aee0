using System.Text;

namespace Trellis.Crypto.Tests;

/// <summary>Hex helpers for known-answer tests: vectors are kept as the sources print them.</summary>
internal static class Hex
{
    /// <summary>Decodes hex, ignoring spaces and line breaks.</summary>
    public static byte[] Decode(string hex)
    {
        var sb = new StringBuilder(hex.Length);
        foreach (var ch in hex)
        {
            if (!char.IsWhiteSpace(ch))
            {
                sb.Append(ch);
            }
        }

        return Convert.FromHexString(sb.ToString());
    }

    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>0x00, 0x01, ... (length - 1), the input pattern of the BLAKE2 KATs and the kernel self-test.</summary>
    public static byte[] Sequence(int length)
    {
        var b = new byte[length];
        for (var i = 0; i < length; i++)
        {
            b[i] = (byte)i;
        }

        return b;
    }
}
