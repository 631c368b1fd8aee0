using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.Server;

/// <summary>
/// The server's static keys, generated at first start into the data directory (mode 0600) and kept:
/// nodes pin the Noise key's public half, and relay clients the embedded relay's.
/// </summary>
public static class ServerKey
{
    public const string FileName = "server.key";

    public const string RelayFileName = "relay.key";

    public static Key LoadOrCreate(string dataDirectory, string fileName = FileName)
    {
        var path = Path.Combine(dataDirectory, fileName);
        try
        {
            return PrivateKeyFile.LoadOrCreate(path);
        }
        catch (InvalidDataException)
        {
            throw new ServerConfigurationException($"{path} does not hold a base64 private key; move it away to generate a new one (nodes will have to re-register)");
        }
    }
}
