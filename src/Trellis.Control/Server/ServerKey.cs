using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.Server;

/// <summary>
/// The server's static Noise key, generated at first start into the data directory (mode 0600) and
/// kept: nodes pin its public half.
/// </summary>
public static class ServerKey
{
    public const string FileName = "server.key";

    public static Key LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            if (!Key.TryParseBase64(text, out var existing))
            {
                throw new ServerConfigurationException($"{path} does not hold a base64 private key; move it away to generate a new one (nodes will have to re-register)");
            }

            return existing;
        }

        var key = X25519.GeneratePrivateKey();
        var temporary = path + ".tmp";
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
