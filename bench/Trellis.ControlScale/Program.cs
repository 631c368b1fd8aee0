using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Trellis.Control.Policy;
using Trellis.Control.Store;
using Trellis.ControlScale;
using Trellis.Core.Control;
using Trellis.Core.Keys;

// Usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT [ANNOUNCE]]
// Starts `trellis server`, joins NODES simulated nodes (owned by users in groups, one in five tagged)
// over the real protocol, and measures how long one change takes to reach every node it must reach:
// first with no policy (an endpoint change, a node joining), then after a 200-rule policy is set
// through the admin API (the policy set, two one-rule edits, an endpoint change, a node joining).
// ANNOUNCE says which simulated nodes announce ControlProtocol.PeersKept (and are told a first
// policy as the peers they keep, not the ones they lose): all, half (every other one; the first
// policy's row is then also split by form) or none (as nodes before it). Default: all.
// Prints table rows on stdout: "P|" propagation rows, "M|" the run's join and memory row.
if (args.Length < 2 || (args.Length > 3 && args[3] is not ("all" or "half" or "none")))
{
    Console.Error.WriteLine("usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT [all|half|none]]");
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
var dir = Directory.CreateTempSubdirectory("trellis-scale-").FullName;
var server = new Uri($"http://127.0.0.1:{port}");
// No STUN: the bench does not use it, and two runs (or another engineer's server) can then share the machine.
using var process = new ServerProcess(trellis, "127.0.0.1", port, dir, "--stun-port", "0");
using var http = new HttpClient();
Key serverKey = default;

// A server start takes tens of seconds on two cores shared with other builds (migrations, JIT).
var startDeadline = Stopwatch.StartNew();
var serverStart = TimeSpan.FromSeconds(180);
while (true)
{
    try
    {
        var doc = await http.GetFromJsonAsync<JsonElement>(new Uri(server, "/key"));
        serverKey = Key.FromBase64(doc.GetProperty("publicKey").GetString()!);
        break;
    }
    catch (HttpRequestException) when (startDeadline.Elapsed < serverStart && !process.HasExited)
    {
        await Task.Delay(100);
    }
}

// Users, auth keys and the API key go straight into the server's SQLite database; the policy goes
// through the admin API, as an operator's `trellis policy set` would.
var store = new ControlStore(TrellisDbContextFactory.SqliteFile(Path.Combine(dir, "trellis.db")), TimeProvider.System);
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

var everyone = Enumerable.Range(0, count).Select(i => new ScaleClient(server, serverKey, i, ProtocolOf(i))).ToList();
var joinWatch = Stopwatch.StartNew();
var cpuBeforeJoin = process.CpuSeconds();
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
var joinCpu = process.CpuSeconds() - cpuBeforeJoin;
Console.Error.WriteLine($"[bench] {clients.Count} of {count} nodes joined in {joinSeconds:F1} s ({failedJoins} failed); largest full map {clients.Max(c => c.FullMapBytes) / 1024} KiB");
await PropagationMeter.WaitQuietAsync();
var rssJoined = process.MemoryMiB();
var peakJoined = process.PeakMemoryMiB();

var lastFullMap = clients.Max(c => c.FullMapBytes);
var meter = new PropagationMeter(clients, process);
IAccessPolicy policy = AllowAllPolicy.Instance;
List<PolicyNode> Members() => [.. registered.Select(c => PolicyExpectations.NodeOf(c.Self!))];
var results = new List<Propagation>();
var joiners = 0;

async Task EndpointChangeAsync(string name)
{
    var mover = clients[0];
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
        origin: mover.Self!.Id));
}

async Task JoinAsync(string name)
{
    // A user node, in the first group: sees what that group's rules give it.
    var joiner = new ScaleClient(server, serverKey, count + joiners, ProtocolOf(count + joiners));
    joiners++;
    results.AddRange(await meter.MeasureAsync(name, async () =>
    {
        await joiner.JoinAsync(userKeys[0], $"joiner-{joiner.Index}", CancellationToken.None);
        var members = Members();
        var self = PolicyExpectations.NodeOf(joiner.Self!);
        members.Add(self);
        return PolicyExpectations.SeenBy(policy, self, members);
    }));
    await joiner.FullMapArrived.Task;
    clients.Add(joiner);
    registered.Add(joiner);
}

// With half the nodes announcing, the first policy's row is also given for each form, from the same change.
NodeGroup[] byForm = announce == "half"
    ?
    [
        new("nodes sent the peers kept", c => c.Protocol >= ControlProtocol.PeersKept),
        new("nodes sent the peers removed (older protocol)", c => c.Protocol < ControlProtocol.PeersKept),
    ]
    : [];

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
    }, groups: groups));
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

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"M| {count} | {joinSeconds:F1} | {failedJoins} | {joinCpu:F1} | {lastFullMap / 1024} | {rssJoined:F0} / {peakJoined:F0} | {process.MemoryMiB():F0} / {process.PeakMemoryMiB():F0} | {averagePeers:F0} |"));
Directory.Delete(dir, recursive: true);
return failedJoins == 0 && results.All(r => r.Missed == 0 && r.Unexpected == 0) ? 0 : 1;
