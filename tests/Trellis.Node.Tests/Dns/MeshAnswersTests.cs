using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Trellis.Node.Dns;

namespace Trellis.Node.Tests.Dns;

public sealed class MeshAnswersTests
{
    private static DnsMessage Query(string name, RecordType type)
    {
        var query = new DnsMessage { TransactionID = 4242, IsRecursionDesired = true };
        query.Questions.Add(new DnsQuestion(DomainName.Parse(name), type, RecordClass.INet));
        return query;
    }

    private static string[] Addresses(DnsMessage response) =>
        [.. response.AnswerRecords.Select(r => r switch
        {
            ARecord a => a.Address.ToString(),
            AaaaRecord aaaa => aaaa.Address.ToString(),
            PtrRecord ptr => ptr.PointerDomainName.ToString(),
            _ => r.ToString(),
        })];

    [Theory]
    [InlineData("bravo.mesh.test", RecordType.A, "100.64.0.2")]
    [InlineData("Bravo.Mesh.Test.", RecordType.A, "100.64.0.2")]
    [InlineData("bravo.mesh.test", RecordType.Aaaa, "fd11:2233:4455::6440:2")]
    [InlineData("bravo", RecordType.A, "100.64.0.2")]
    [InlineData("charlie", RecordType.Aaaa, "fd11:2233:4455::6440:3")]
    [InlineData("alpha.mesh.test", RecordType.A, "100.64.0.1")]
    [InlineData("printer.mesh.test", RecordType.A, "100.64.9.9")]
    public void Mesh_names_full_and_short_are_answered_with_their_address(string name, RecordType type, string address)
    {
        var response = MeshAnswers.TryAnswer(Query(name, type), MeshNamesFixture.Names());
        Assert.NotNull(response);
        Assert.Equal(ReturnCode.NoError, response.ReturnCode);
        Assert.Equal(4242, response.TransactionID);
        Assert.True(response.IsAuthoritiveAnswer);
        Assert.Equal([address], Addresses(response));
    }

    [Fact]
    public void A_name_of_the_other_family_only_has_no_records_but_exists()
    {
        var response = MeshAnswers.TryAnswer(Query("printer.mesh.test", RecordType.Aaaa), MeshNamesFixture.Names());
        Assert.Equal(ReturnCode.NoError, response!.ReturnCode);
        Assert.Empty(response.AnswerRecords);
    }

    [Theory]
    [InlineData("100.64.0.2", "bravo.mesh.test.")]
    [InlineData("fd11:2233:4455::6440:3", "charlie.mesh.test.")]
    public void Overlay_addresses_have_reverse_names(string address, string name)
    {
        var reverse = IPAddress.Parse(address).GetReverseLookupDomain().ToString();
        var response = MeshAnswers.TryAnswer(Query(reverse, RecordType.Ptr), MeshNamesFixture.Names());
        Assert.Equal([name], Addresses(response!));
    }

    [Theory]
    [InlineData("100.64.0.2")]
    [InlineData("255.0.10.1")]
    [InlineData("fd7a:115c:a1e0::1")]
    [InlineData("fd7a:115c:a1e0:ab12:cd34:ef56:7890:fedc")]
    [InlineData("::")]
    public void Reverse_names_are_those_of_the_DNS_library_without_the_final_dot(string address) =>
        Assert.Equal(
            IPAddress.Parse(address).GetReverseLookupDomain().ToString().TrimEnd('.').ToLowerInvariant(),
            MeshNames.ReverseName(IPAddress.Parse(address)));

    [Fact]
    public void An_unknown_name_under_the_base_domain_does_not_exist()
    {
        var response = MeshAnswers.TryAnswer(Query("nobody.mesh.test", RecordType.A), MeshNamesFixture.Names());
        Assert.Equal(ReturnCode.NxDomain, response!.ReturnCode);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("nobody")]
    [InlineData("mesh.test.example.com")]
    [InlineData("9.9.9.9.in-addr.arpa")]
    public void Other_names_are_not_the_meshs_to_answer(string name) =>
        Assert.Null(MeshAnswers.TryAnswer(Query(name, RecordType.A), MeshNamesFixture.Names()));

    [Fact]
    public void A_renamed_peer_answers_under_its_new_name_only()
    {
        var names = MeshNamesFixture.Names(MeshNamesFixture.Map(bravoName: "delta"));
        Assert.Equal(["100.64.0.2"], Addresses(MeshAnswers.TryAnswer(Query("delta.mesh.test", RecordType.A), names)!));
        Assert.Equal(ReturnCode.NxDomain, MeshAnswers.TryAnswer(Query("bravo.mesh.test", RecordType.A), names)!.ReturnCode);
    }

    [Fact]
    public void A_split_domain_goes_to_its_own_nameservers_the_longest_match_first()
    {
        var names = MeshNamesFixture.Names(null, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53));
        Assert.Equal("10.1.0.53:53", names.SplitFor("www.corp.example")!.Single().ToString());
        Assert.Equal("10.1.0.53:53", names.SplitFor("corp.example")!.Single().ToString());
        Assert.Equal("10.2.0.53:5353", names.SplitFor("a.lab.corp.example")!.Single().ToString());
        Assert.Null(names.SplitFor("notcorp.example"));
        Assert.Equal("192.0.2.1:53", names.Upstreams.Single().ToString());
    }

    [Fact]
    public void More_than_one_question_is_a_format_error()
    {
        var query = Query("bravo.mesh.test", RecordType.A);
        query.Questions.Add(new DnsQuestion(DomainName.Parse("charlie.mesh.test"), RecordType.A, RecordClass.INet));
        Assert.Equal(ReturnCode.FormatError, MeshAnswers.TryAnswer(query, MeshNamesFixture.Names())!.ReturnCode);
    }
}
