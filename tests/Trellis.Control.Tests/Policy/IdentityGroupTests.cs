using Trellis.Control.Policy;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>Groups the identity provider gives a user count as the policy's groups of that name, beside the ones it lists.</summary>
public class IdentityGroupTests
{
    private const string Policy = """
        {
          "groups": { "group:eng": ["dave@"], "group:ops": [] },
          "acls": [{ "action": "accept", "src": ["group:eng"], "dst": ["group:ops:22"] }],
        }
        """;

    private static readonly PolicyNode AliceInEng = Node(1, "alice") with { Groups = ["group:eng"] };
    private static readonly PolicyNode BobInOps = Node(2, "bob") with { Groups = ["group:ops"] };
    private static readonly PolicyNode CarolInSales = Node(3, "carol") with { Groups = ["group:sales"] };
    private static readonly PolicyNode DaveListed = Node(4, "dave") with { Groups = ["group:eng"] };
    private static readonly PolicyNode TaggedInEng = Tagged(5, "tag:ci") with { Groups = ["group:eng"] };
    private static readonly PolicyNodeSet Everyone = Set(AliceInEng, BobInOps, CarolInSales, DaveListed, TaggedInEng);

    [Fact]
    public void A_provider_group_grants_as_a_listed_member_would()
    {
        var policy = Compile(Policy);

        Assert.True(Reaches(policy, Everyone, AliceInEng, BobInOps, 22));
        Assert.False(Reaches(policy, Everyone, AliceInEng, BobInOps, 23));
        Assert.False(Reaches(policy, Everyone, BobInOps, AliceInEng, 22));
        Assert.False(Reaches(policy, Everyone, CarolInSales, BobInOps, 22));
        Assert.Equal([AliceInEng.Id, DaveListed.Id], policy.VisiblePeers(BobInOps, Everyone).Order());
    }

    [Fact]
    public void Listed_and_provider_membership_together_count_once()
    {
        var policy = Compile(Policy);

        Assert.True(Reaches(policy, Everyone, DaveListed, BobInOps, 22));
        var sources = policy.InboundFilter(BobInOps, Everyone).Rules.Single().Sources.ToList();
        Assert.Equal(sources.Distinct().Count(), sources.Count);
    }

    [Fact]
    public void A_tagged_node_is_owned_by_its_tags_not_its_users_groups() =>
        Assert.False(Reaches(Compile(Policy), Everyone, TaggedInEng, BobInOps, 22));
}
