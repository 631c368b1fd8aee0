using System.Net;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

public class NftMasqueradeTests
{
    [Theory]
    [InlineData("trellis0", "trellis_trellis0")]
    [InlineData("ts-1.lan", "trellis_ts_1_lan")]
    public void The_table_is_named_after_the_interface_in_characters_nft_accepts(string interfaceName, string table)
    {
        Assert.Equal(table, NftMasquerade.TableName(interfaceName));
    }

    [Fact]
    public void The_script_replaces_the_whole_table_in_one_transaction()
    {
        var script = NftMasquerade.SetScript("trellis_t0", [
            new MasqueradeRule(IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("192.168.1.0/24")),
            new MasqueradeRule(IPNetwork.Parse("fd7a:115c:a1e0::/48"), IPNetwork.Parse("fd00:1::/64")),
        ]);

        Assert.Equal(
            """
            add table inet trellis_t0
            delete table inet trellis_t0
            table inet trellis_t0 {
            	chain postrouting {
            		type nat hook postrouting priority srcnat; policy accept;
            		ip saddr 100.64.0.0/10 ip daddr 192.168.1.0/24 masquerade
            		ip6 saddr fd7a:115c:a1e0::/48 ip6 daddr fd00:1::/64 masquerade
            	}
            }

            """,
            script);
    }

    [Fact]
    public void Removing_succeeds_whether_or_not_the_table_exists()
    {
        Assert.Equal("add table inet trellis_t0\ndelete table inet trellis_t0\n", NftMasquerade.RemoveScript("trellis_t0"));
    }
}
