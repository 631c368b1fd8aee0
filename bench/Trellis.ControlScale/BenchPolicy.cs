using System.Globalization;
using System.Text;

namespace Trellis.ControlScale;

/// <summary>
/// Who the simulated nodes are and the policy over them: 30 groups of 5 users and 20 tags (50 in
/// all), one node in five tagged (servers), the rest spread over the users; 200 <c>acls</c> rules
/// from groups (and a few tags) to tags and groups, so a node sees a fraction of the mesh.
/// </summary>
internal static class BenchPolicy
{
    public const int Groups = 30;
    public const int Tags = 20;
    public const int UsersPerGroup = 5;
    public const int Users = Groups * UsersPerGroup;
    public const int Rules = 200;

    // One node in TaggedEvery is a tagged server.
    private const int TaggedEvery = 5;
    private const int FirstPort = 1000;
    private const int AddedPort = 1443;
    private const int AddedGroupPort = 443;

    // The group-to-group rules land on the SSH port; every third rule has one.
    private const int SshPort = 22;
    private const int GroupDestinationEvery = 3;
    private const int TagSourceEvery = 4;

    /// <summary>The rule whose destination gains a port, and the one whose destination gains a group.</summary>
    private const int PortEditRule = 0;
    private const int GroupEditRule = 1;
    private const int AddedGroup = 20;

    public static string UserName(int user) => $"u{user}";

    public static string TagName(int tag) => $"tag:t{tag}";

    /// <summary>The owner of node <paramref name="index"/>: a tag index, or a user index when untagged.</summary>
    public static (int? Tag, int? User) OwnerOf(int index) =>
        index % TaggedEvery == TaggedEvery - 1
            ? (index / TaggedEvery % Tags, null)
            : (null, (index - index / TaggedEvery) % Users);

    public static string Text(PolicyEdit edit)
    {
        var text = new StringBuilder("{\n  \"groups\": {\n");
        for (var g = 0; g < Groups; g++)
        {
            var members = Enumerable.Range(g * UsersPerGroup, UsersPerGroup).Select(u => $"\"{UserName(u)}@\"");
            text.Append(CultureInfo.InvariantCulture, $"    \"group:g{g}\": [{string.Join(", ", members)}],\n");
        }

        text.Append("  },\n  \"tagOwners\": {\n");
        for (var t = 0; t < Tags; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $"    \"{TagName(t)}\": [\"group:g{t % Groups}\"],\n");
        }

        text.Append("  },\n  \"acls\": [\n");
        for (var k = 0; k < Rules; k++)
        {
            var sources = new List<string> { $"group:g{k % Groups}" };
            if (k % TagSourceEvery == TagSourceEvery - 1)
            {
                sources.Add(TagName(k / TagSourceEvery % Tags));
            }

            var ports = (FirstPort + k).ToString(CultureInfo.InvariantCulture);
            if (k == PortEditRule && edit >= PolicyEdit.PortAdded)
            {
                ports += $",{AddedPort}";
            }

            var destinations = new List<string> { $"{TagName(k * 7 % Tags)}:{ports}" };
            if (k % GroupDestinationEvery == 0)
            {
                destinations.Add($"group:g{(k * 11 + 5) % Groups}:{SshPort}");
            }

            if (k == GroupEditRule && edit >= PolicyEdit.GroupAdded)
            {
                destinations.Add($"group:g{AddedGroup}:{AddedGroupPort}");
            }

            text.Append(CultureInfo.InvariantCulture,
                $"    {{\"action\": \"accept\", \"src\": [{Quoted(sources)}], \"dst\": [{Quoted(destinations)}]}},\n");
        }

        return text.Append("  ],\n}\n").ToString();
    }

    private static string Quoted(IEnumerable<string> items) => string.Join(", ", items.Select(i => $"\"{i}\""));
}

/// <summary>The policy as first set, then with one edit, then with a second on top.</summary>
internal enum PolicyEdit
{
    Base,
    PortAdded,
    GroupAdded,
}
