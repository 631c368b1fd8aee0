namespace Trellis.Lab;

/// <summary>A WireGuard key pair in base64, made by <c>wg genkey</c> and <c>wg pubkey</c>.</summary>
public sealed record WireGuardKeyPair(string PrivateKey, string PublicKey)
{
    public static async Task<WireGuardKeyPair> GenerateAsync(CancellationToken cancellationToken = default)
    {
        var generated = (await HostCommand.RunAsync("wg", ["genkey"], CommandOptions.Default, cancellationToken).ConfigureAwait(false))
            .EnsureSuccess();
        var privateKey = generated.StandardOutput.Trim();
        return new WireGuardKeyPair(privateKey, await PublicKeyOfAsync(privateKey, cancellationToken).ConfigureAwait(false));
    }

    public static async Task<string> PublicKeyOfAsync(string privateKey, CancellationToken cancellationToken = default)
    {
        var options = new CommandOptions { StandardInput = privateKey + "\n" };
        var result = (await HostCommand.RunAsync("wg", ["pubkey"], options, cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        return result.StandardOutput.Trim();
    }

    /// <summary>Only the public half, so keys never end up in logs.</summary>
    public override string ToString() => PublicKey;
}
