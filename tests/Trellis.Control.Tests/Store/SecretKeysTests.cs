using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public class SecretKeysTests
{
    [Fact]
    public void Issued_keys_parse_back_and_match_their_hash()
    {
        var (prefix, hash, plaintext) = SecretKeys.Issue(SecretKeys.AuthKind);

        Assert.True(SecretKeys.TryParse(plaintext, SecretKeys.AuthKind, out var parsedPrefix, out var secret));
        Assert.Equal(prefix, parsedPrefix);
        Assert.Equal(SecretKeys.SecretLength, secret.Length);
        Assert.True(SecretKeys.Matches(secret, hash));
        Assert.False(SecretKeys.Matches(secret.Replace(secret[0], secret[0] == 'a' ? 'b' : 'a'), hash));
        Assert.False(SecretKeys.TryParse(plaintext, SecretKeys.ApiKind, out _, out _));
    }

    [Fact]
    public void Each_key_is_fresh()
    {
        var keys = Enumerable.Range(0, 100).Select(_ => SecretKeys.Issue(SecretKeys.ApiKind)).ToList();

        Assert.Equal(100, keys.Select(k => k.Prefix).Distinct().Count());
        Assert.Equal(100, keys.Select(k => k.Plaintext).Distinct().Count());
    }

    [Fact]
    public void Secrets_carry_all_32_bytes()
    {
        // 52 base32 characters hold 260 bits; the last character only has 1 meaningful bit.
        var lastCharacters = Enumerable.Range(0, 200)
            .Select(_ => SecretKeys.Issue(SecretKeys.AuthKind).Plaintext[^1]).Distinct().ToList();

        Assert.Equal(52, SecretKeys.SecretLength);
        Assert.All(lastCharacters, c => Assert.Contains(c, "aq"));
    }
}
