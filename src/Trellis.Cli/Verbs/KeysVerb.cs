using System.CommandLine;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Cli.Verbs;

/// <summary>`trellis genkey` and `trellis pubkey`, the same text forms as wg(8).</summary>
internal static class KeysVerb
{
    public static Command BuildGenKey()
    {
        var command = new Command("genkey", "Print a new private key (base64).");
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.WriteLine(X25519.GeneratePrivateKey().ToBase64());
            return CommandLine.Success;
        });
        return command;
    }

    public static Command BuildPubKey()
    {
        var command = new Command("pubkey", "Read a private key (base64) on standard input and print its public key.");
        command.SetAction(parse =>
        {
            var line = Console.In.ReadLine()?.Trim() ?? string.Empty;
            if (!Key.TryParseBase64(line, out var key))
            {
                parse.InvocationConfiguration.Error.WriteLine("trellis pubkey: standard input is not a base64 key of 32 bytes");
                return CommandLine.Failure;
            }

            parse.InvocationConfiguration.Output.WriteLine(X25519.PublicKey(key).ToBase64());
            return CommandLine.Success;
        });
        return command;
    }
}
