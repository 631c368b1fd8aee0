using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Trellis.Control.Policy;
using Trellis.Control.Store;
using Trellis.ControlScale;
using Trellis.Core.Control;

// Usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT [ANNOUNCE [REPLICAS]]]
// Starts `trellis server`, joins NODES simulated nodes (owned by users in groups, one in five tagged)
// over the real protocol, and measures how long one change takes to reach every node it must reach:
// first with no policy (an endpoint change, a node joining), then after a 200-rule policy is set
// through the admin API (the policy set, two one-rule edits, an endpoint change, a node joining).
// ANNOUNCE says which simulated nodes announce ControlProtocol.PeersKept (and are told a first
// policy as the peers they keep, not the ones they lose): all, half (every other one; the first
// policy's row is then also split by form) or none (as nodes before it). Default: all.
// REPLICAS above 1 (default 1: one server on SQLite) starts that many servers on one fresh PostgreSQL
// database, on PORT and the ports after it, and spreads the nodes over them round-robin; every change
// is made through the first (an endpoint change of a node on it, a node joining it, the policy set
// through its admin API), every row counts the nodes on all replicas and is also split into those on
// the first and those on the others; CPU and memory are the servers' sum and, in brackets, the largest.
// Prints table rows on stdout: "P|" propagation rows, "M|" the run's join and memory row.
var replicas = 1;
if (args.Length < 2 || (args.Length > 3 && args[3] is not ("all" or "half" or "none"))
    || (args.Length > 4 && (!int.TryParse(args[4], CultureInfo.InvariantCulture, out replicas) || replicas < 1)))
{
    Console.Error.WriteLine("usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT [all|half|none [REPLICAS]]]");
    return 2;
}

const int JoinConcurrency = 32;
var trellis = args[0];
var count = int.Parse(args[1], CultureInfo.InvariantCulture);
var port = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 18443;
var announce = args.Length > 3 ? args[3] : "all";
int ProtocolOf(int index) => announce switch
{
    "all" => ControlProtocol.Current,
    "half" when index % 2 == 0 => ControlProtocol.Current,
    _ => ControlProtocol.Initial,
};
using var http = new HttpClient();
await using var servers = await ReplicaSet.StartAsync(trellis, port, replicas, http);
var server = servers.Urls[0];
var serverKey = servers.ServerKey;
Uri ReplicaOf(int index) => servers.Urls[index % servers.Count];

// Users, auth keys and the API key go straight into the servers' database; the policy goes
// through the admin API, as an operator's `trellis policy set` would.
var store = new ControlStore(servers.Store, TimeProvider.System);
var userKeys = new string[BenchPolicy.Users];
for (var u = 0; u < BenchPolicy.Users; u++)
{
    await store.CreateUserAsync(BenchPolicy.UserName(u));
    userKeys[u] = (await store.CreateAuthKeyAsync(BenchPolicy.UserName(u), null, reusable: true, ephemeral: false, expiresAt: null)).Value!.Plaintext;
}

var tagKeys = new string[BenchPolicy.Tags];
for (var t = 0; t < BenchPolicy.Tags; t++)
{
    tagKeys[t] = (await store.CreateAuthKeyAsync(null, [BenchPolicy.TagName(t)], reusable: true, ephemeral: false, expiresAt: null)).Value!.Plaintext;
}

http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await store.CreateApiKeyAsync()).Value!.Plaintext);

string KeyOf(int index) => BenchPolicy.OwnerOf(index) switch
{
    ({ } tag, _) => tagKeys[tag],
    (_, { } user) => userKeys[user],
    _ => throw new UnreachableException(),
};

var everyone = Enumerable.Range(0, count).Select(i => new ScaleClient(ReplicaOf(i), serverKey, i, ProtocolOf(i))).ToList();
var joinWatch = Stopwatch.StartNew();
var cpuBeforeJoin = servers.CpuSeconds();
var failedJoins = 0;
using (var gate = new SemaphoreSlim(JoinConcurrency))
{
    await Task.WhenAll(everyone.Select(async c =>
    {
        await gate.WaitAsync();
        try
        {
            await c.JoinAsync(KeyOf(c.Index), $"bench-{c.Index}", CancellationToken.None);
            await c.FullMapArrived.Task;
        }
        catch (Exception e) when (e is WebSocketException or InvalidDataException or InvalidOperationException or IOException or TimeoutException or OperationCanceledException)
        {
            // On a loaded machine a handshake can outlast the server's timeout: one lost node must
            // not throw away a run of many minutes. It is counted, and left out of the measurements.
            Interlocked.Increment(ref failedJoins);
            Console.Error.WriteLine($"[bench] node {c.Index} failed to join: {e.Message}");
        }
        finally
        {
            gate.Release();
        }
    }));
}

// Measured: the nodes whose stream is up. Registered ones whose stream failed still count for the
// server's policy (they are members, offline), so they stay in the expectations.
var clients = everyone.Where(c => c.FullMapArrived.Task.IsCompletedSuccessfully).ToList();
var registered = everyone.Where(c => c.Self is not null).ToList();

var joinSeconds = joinWatch.Elapsed.TotalSeconds;
double[] joinCpu = [.. servers.CpuSeconds().Select((seconds, i) => seconds - cpuBeforeJoin[i])];
Console.Error.WriteLine($"[bench] {clients.Count} of {count} nodes joined in {joinSeconds:F1} s ({failedJoins} failed); largest full map {clients.Max(c => c.FullMapBytes) / 1024} KiB");
await PropagationMeter.WaitQuietAsync();
var rssJoined = servers.MemoryMiB();
var peakJoined = servers.PeakMemoryMiB();

var lastFullMap = clients.Max(c => c.FullMapBytes);
var meter = new PropagationMeter(clients, servers);
IAccessPolicy policy = AllowAllPolicy.Instance;
List<PolicyNode> Members() => [.. registered.Select(c => PolicyExpectations.NodeOf(c.Self!))];
var results = new List<Propagation>();
var joiners = 0;

// With half the nodes announcing, the first policy's row is also given for each form, from the same change.
NodeGroup[] byForm = announce == "half"
    ?
    [
        new("nodes sent the peers kept", c => c.Protocol >= ControlProtocol.PeersKept),
        new("nodes sent the peers removed (older protocol)", c => c.Protocol < ControlProtocol.PeersKept),
    ]
    : [];

// With replicas, every row is also given for the nodes on the replica the change went through and for the others.
NodeGroup[] byReplica = replicas > 1
    ?
    [
        new("nodes on the replica it was made on", c => c.Server == server),
        new("nodes on the other replicas", c => c.Server != server),
    ]
    : [];

async Task EndpointChangeAsync(string name)
{
    var mover = clients.First(c => c.Server == server);
    var members = Members();
    var expected = PolicyExpectations.SeenBy(policy, PolicyExpectations.NodeOf(mover.Self!), members);
    var endpoint = $"203.0.113.77:{Random.Shared.Next(1024, 65535)}";
    results.AddRange(await meter.MeasureAsync(
        name,
        async () =>
        {
            await mover.SendAsync(new EndpointUpdate { Endpoints = [endpoint] }, CancellationToken.None);
            return expected;
        },
        origin: mover.Self!.Id,
        groups: byReplica));
}

async Task JoinAsync(string name)
{
    // A user node, in the first group, joining the first replica: sees what that group's rules give it.
    var joiner = new ScaleClient(server, serverKey, count + joiners, ProtocolOf(count + joiners));
    joiners++;
    results.AddRange(await meter.MeasureAsync(name, async () =>
    {
        await joiner.JoinAsync(userKeys[0], $"joiner-{joiner.Index}", CancellationToken.None);
        var members = Members();
        var self = PolicyExpectations.NodeOf(joiner.Self!);
        members.Add(self);
        return PolicyExpectations.SeenBy(policy, self, members);
    }, groups: byReplica));
    await joiner.FullMapArrived.Task;
    clients.Add(joiner);
    registered.Add(joiner);
}

async Task SetPolicyAsync(string name, PolicyEdit edit, IReadOnlyList<NodeGroup>? groups = null)
{
    var text = BenchPolicy.Text(edit);
    var next = new HuJsonPolicyCompiler().Compile(text);
    var expected = PolicyExpectations.Affected(policy, next, Members());
    results.AddRange(await meter.MeasureAsync(name, async () =>
    {
        using var body = new StringContent(text, Encoding.UTF8, "application/hujson");
        using var response = await http.PutAsync(new Uri(server, "/api/v1/policy"), body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the policy was refused: {await response.Content.ReadAsStringAsync()}");
        }

        return expected;
    }, groups: [.. groups ?? [], .. byReplica]));
    policy = next;
}

await EndpointChangeAsync("endpoint change, no policy");
await JoinAsync("node join, no policy");
await SetPolicyAsync($"policy set ({BenchPolicy.Rules} rules, from none; {announce} nodes announce kept ids)", PolicyEdit.Base, byForm);
await SetPolicyAsync("policy edit: a port added to one rule's dst", PolicyEdit.PortAdded);
await SetPolicyAsync("policy edit: a group added to one rule's dst", PolicyEdit.GroupAdded);
await EndpointChangeAsync("endpoint change, with policy");
await JoinAsync("node join, with policy");

await PropagationMeter.WaitQuietAsync();
var members = Members();
var set = new PolicyNodeSet(members);
var averagePeers = members.Average(m => policy.VisiblePeers(m, set).Count);
foreach (var r in results)
{
    Console.WriteLine("P" + r.Row(count));
}

string Each(IReadOnlyList<double> values, string format) => Propagation.SumAndLargest(values, format);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"M| {count} | {joinSeconds:F1} | {failedJoins} | {Each(joinCpu, "F1")} | {lastFullMap / 1024} | {Each(rssJoined, "F0")} / {Each(peakJoined, "F0")} | {Each(servers.MemoryMiB(), "F0")} / {Each(servers.PeakMemoryMiB(), "F0")} | {averagePeers:F0} |"));
return failedJoins == 0 && results.All(r => r.Missed == 0 && r.Unexpected == 0) ? 0 : 1;
