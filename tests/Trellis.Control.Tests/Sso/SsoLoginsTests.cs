using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Sso;
using Trellis.Core.Keys;

namespace Trellis.Control.Tests.Sso;

/// <summary>Sign-ins in progress: one link per waiting node and key, states that count once, and expiry.</summary>
public sealed class SsoLoginsTests
{
    private static readonly Uri Server = new("https://vpn.example.com");
    private static readonly Key NodeKey = Key.FromHex(new string('a', 64));
    private static readonly Key OtherKey = Key.FromHex(new string('b', 64));

    private readonly FakeTimeProvider _time = new();

    private SsoLogins Logins(int capacity = 10) => new(Server, _time, TimeSpan.FromMinutes(10), capacity);

    private static string Id(string url) => url[(url.LastIndexOf('/') + 1)..];

    [Fact]
    public void A_waiting_node_keeps_its_link_until_its_key_changes()
    {
        var logins = Logins();
        var link = logins.UrlFor(1, NodeKey)!;

        Assert.StartsWith("https://vpn.example.com/oidc/start/", link, StringComparison.Ordinal);
        Assert.Equal(link, logins.UrlFor(1, NodeKey));
        Assert.NotEqual(link, logins.UrlFor(1, OtherKey));
        Assert.Null(logins.Begin(Id(link)));
    }

    [Fact]
    public void A_state_counts_once_and_a_restart_voids_the_earlier_one()
    {
        var logins = Logins();
        var id = Id(logins.UrlFor(1, NodeKey)!);
        var first = logins.Begin(id)!;
        var second = logins.Begin(id)!;

        Assert.Null(logins.Take(first.State));
        var login = logins.Take(second.State);
        Assert.NotNull(login);
        Assert.Equal(1, login.NodeId);
        Assert.Null(logins.Take(second.State));
        Assert.NotEqual(second.Nonce, second.CodeVerifier);
    }

    [Fact]
    public void An_unfinished_sign_in_expires()
    {
        var logins = Logins();
        var id = Id(logins.UrlFor(1, NodeKey)!);
        var request = logins.Begin(id)!;

        _time.Advance(TimeSpan.FromMinutes(11));

        Assert.Null(logins.Take(request.State));
        Assert.Null(logins.Begin(id));
        Assert.Equal(0, logins.Count);
    }

    [Fact]
    public void Open_sign_ins_are_bounded()
    {
        var logins = Logins(capacity: 2);
        Assert.NotNull(logins.UrlFor(1, NodeKey));
        Assert.NotNull(logins.UrlFor(2, NodeKey));
        Assert.Null(logins.UrlFor(3, NodeKey));
    }

    [Fact]
    public void The_challenge_is_the_verifiers_S256()
    {
        var request = new SsoRequest("s", "n", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", request.CodeChallenge);
    }
}
