using Trellis.Core.Keys;

namespace Trellis.Crypto;

/// <summary>
/// An X25519 private key kept in a file of its own (base64, one line, mode 0600), generated on first
/// use. Written to a temporary file and moved into place, so a crash never leaves half a key.
/// </summary>
public static class PrivateKeyFile
{
    /// <exception cref="InvalidDataException">The file exists but does not hold a key.</exception>
    public static Key LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            return Key.TryParseBase64(text, out var existing)
                ? existing
                : throw new InvalidDataException($"{path} does not hold a base64 private key");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = X25519.GeneratePrivateKey();
        var temporary = path + ".tmp";
        File.Delete(temporary); // a leftover of a crash between create and move
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key.ToBase64());
        }

        File.Move(temporary, path);
        return key;
    }
}
