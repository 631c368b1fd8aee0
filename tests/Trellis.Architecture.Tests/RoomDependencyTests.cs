using System.Reflection;

namespace Trellis.Architecture.Tests;

/// <summary>
/// The rooms of docs/ARCHITECTURE.md may only reach where the plan allows. Each banned edge names
/// why, so a failure says what design rule the change breaks.
/// </summary>
public class RoomDependencyTests
{
    private static readonly string[] Rooms = ["Trellis.Core", "Trellis.Crypto", "Trellis.WireGuard", "Trellis.Net", "Trellis.Lab", "Trellis.Relay", "Trellis.Discovery", "Trellis.Control", "Trellis.Node", "trellis", "trellis-node"];

    public static TheoryData<string, string, string> BannedEdges => new()
    {
        { "Trellis.Core", "Trellis.Crypto", "Core holds shared types and depends on nothing of ours" },
        { "Trellis.Core", "Trellis.WireGuard", "Core holds shared types and depends on nothing of ours" },
        { "Trellis.Core", "Trellis.Net", "Core holds shared types and depends on nothing of ours" },
        { "Trellis.Crypto", "Trellis.WireGuard", "primitives know no protocol" },
        { "Trellis.Crypto", "Trellis.Net", "primitives know no network" },
        { "Trellis.WireGuard", "Trellis.Net", "WireGuard sees the network only through IBind and ITun, so discovery and relays can plug in" },
        { "Trellis.WireGuard", "Trellis.Lab", "the protocol must not depend on the test lab" },
        { "Trellis.Net", "Trellis.WireGuard", "Net implements the transport contracts of Core, not of WireGuard" },
        { "Trellis.Net", "Trellis.Crypto", "OS networking needs no cryptography" },
        { "Trellis.Lab", "Trellis.WireGuard", "the lab drives real processes, never the engine in-process" },
        { "Trellis.Lab", "Trellis.Net", "the lab drives real processes and iproute2, never the engine in-process" },
        { "Trellis.Control", "Trellis.WireGuard", "the control server never touches the data plane; wire types live in Core" },
        { "Trellis.Control", "Trellis.Lab", "the control server must not depend on the test lab" },
        { "Trellis.Core", "Trellis.Control", "Core holds shared types and depends on nothing of ours" },
        { "Trellis.WireGuard", "Trellis.Control", "WireGuard knows nothing of control" },
        { "Trellis.WireGuard", "Trellis.Relay", "WireGuard knows nothing of relays: they plug in beneath it as an IBind" },
        { "Trellis.Relay", "Trellis.WireGuard", "a relay forwards opaque packets it cannot read" },
        { "Trellis.Relay", "Trellis.Control", "a relay learns who may use it through an admission interface, so it also runs standalone" },
        { "Trellis.Relay", "Trellis.Net", "the relay is HTTP and frames; it needs no OS networking of its own" },
        { "Trellis.Relay", "Trellis.Lab", "a relay must not depend on the test lab" },
        { "Trellis.Core", "Trellis.Relay", "Core holds shared types and depends on nothing of ours" },
        { "Trellis.Discovery", "Trellis.WireGuard", "discovery plugs in beneath WireGuard as its IBind and needs nothing of the protocol" },
        { "Trellis.Discovery", "Trellis.Control", "discovery learns peers from the node, not from the server's code" },
        { "Trellis.Discovery", "Trellis.Node", "the daemon wires discovery, not the other way round" },
        { "Trellis.Control", "Trellis.Discovery", "the control server never touches a node's data plane" },
        { "Trellis.WireGuard", "Trellis.Discovery", "WireGuard knows nothing of discovery: it plugs in as an IBind" },
        { "Trellis.Node", "Trellis.Control", "the node talks to the server over the wire only; the wire types live in Core" },
        { "Trellis.Control", "Trellis.Node", "the control server never touches a node's data plane" },
        { "Trellis.Node", "Trellis.Lab", "the daemon must not depend on the test lab" },
        { "Trellis.Relay", "Trellis.Node", "a relay knows nothing of the nodes it serves but their keys" },
    };

    private static Assembly Load(string name) => Assembly.Load(new AssemblyName(name));

    private static IEnumerable<string> OurReferences(string room) =>
        Load(room).GetReferencedAssemblies().Select(a => a.Name!).Where(n => Rooms.Contains(n));

    [Theory]
    [MemberData(nameof(BannedEdges))]
    public void A_room_does_not_reference_a_room_it_must_not(string from, string to, string reason)
    {
        Assert.False(OurReferences(from).Contains(to), $"{from} references {to}, but {reason}.");
    }

    [Theory]
    [MemberData(nameof(BannedEdges))]
    public void A_project_file_does_not_reference_a_room_it_must_not(string from, string to, string reason)
    {
        var project = File.ReadAllText(Path.Combine(Repository().FullName, "src", from, from + ".csproj"));
        Assert.False(project.Contains($"{to}/{to}.csproj", StringComparison.Ordinal), $"{from}.csproj references {to}, but {reason}.");
    }

    [Fact]
    public void Every_room_is_known_to_this_test()
    {
        // A new room must be added here with its rules.
        var all = Directory.GetFiles(AppContext.BaseDirectory, "Trellis.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => !n!.EndsWith(".Tests", StringComparison.Ordinal));
        Assert.All(all, n => Assert.Contains(n!, Rooms));
    }

    [Theory]
    [InlineData("Trellis.Control", "the node executable is compiled ahead of time, and the control server's store and YAML loader cannot be")]
    [InlineData("Trellis.Lab", "the node executable ships to devices; the lab is for tests and the demo")]
    public void The_node_executable_does_not_reference_the_server_or_the_lab(string room, string reason)
    {
        Assert.False(OurReferences("trellis-node").Contains(room), $"trellis-node references {room}, but {reason}.");
        var project = File.ReadAllText(Path.Combine(Repository().FullName, "src", "Trellis.NodeCli", "Trellis.NodeCli.csproj"));
        Assert.False(project.Contains($"{room}/", StringComparison.Ordinal), $"Trellis.NodeCli.csproj references {room}, but {reason}.");
    }

    [Fact]
    public void The_protocol_engine_has_no_operating_system_networking_of_its_own()
    {
        // The UAPI's Unix socket is the one exception: it is the configuration channel, not the data path.
        var engine = Load("Trellis.WireGuard");
        var offending = engine.GetTypes()
            .Where(t => t.Namespace is not null && !t.Namespace.EndsWith(".Uapi", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(f => f.FieldType.Namespace == "System.Net.Sockets")
            .Select(f => $"{f.DeclaringType}.{f.Name}")
            .ToList();
        Assert.Empty(offending);
    }

    private static DirectoryInfo Repository()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Trellis.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        return root;
    }
}
