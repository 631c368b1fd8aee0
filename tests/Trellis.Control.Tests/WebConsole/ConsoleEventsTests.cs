using System.Net;
using System.Text.Json;
using Trellis.Control.Tests.Admin;
using Trellis.Control.WebConsole;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>
/// The machines page's live stream (/admin/events) as a browser reads it: a node coming online and
/// going offline reaches an admin's stream as it happens; a member's carries their own devices only;
/// no session, no stream; a stream ends at its heartbeat once its session has.
/// </summary>
public sealed class ConsoleEventsTests : IAsyncLifetime
{
    // A safety net only: each event is written as its change is published.
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private AdminTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AdminTestServer.StartAsync(console: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task An_admin_sees_a_node_come_online_and_go_offline_without_asking_again()
    {
        var laptop = await _server.RegisterAsync("alice", "laptop");
        var (id, _) = _server.Console!.Open("alice", "alice@example.com", isAdmin: true);
        using var stream = await EventStream.OpenAsync(_server.Url, id);
        await stream.NextAsync("ready");

        var (session, error) = await _server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest { Version = "0.1.0+0567290f61ba" });
        Assert.Null(error);
        var online = await stream.NextNodeAsync(n => n.GetProperty("name").GetString() == "laptop" && n.GetProperty("online").GetBoolean());
        await _server.Service.DisconnectedAsync(session!);
        var offline = await stream.NextNodeAsync(n => n.GetProperty("name").GetString() == "laptop" && !n.GetProperty("online").GetBoolean());
        await _server.Service.DeleteNodeAsync(laptop.Id);
        var removed = await stream.NextAsync("removed");

        Assert.Equal("0.1.0+0567290f61ba", online.GetProperty("version").GetString());
        Assert.Equal(laptop.Id, offline.GetProperty("id").GetInt64());
        Assert.Equal(laptop.Id, removed.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task A_member_is_streamed_only_their_own_devices()
    {
        var bobs = await _server.RegisterAsync("bob", "bob-laptop");
        var carols = await _server.RegisterAsync("carol", "carol-phone");
        var (id, _) = _server.Console!.Open("bob", "bob@example.com", isAdmin: false);
        using var stream = await EventStream.OpenAsync(_server.Url, id);
        await stream.NextAsync("ready");

        // carol's changes come first: were they streamed to bob, they would arrive before his own.
        await _server.Service.RenameNodeAsync(carols.Id, "carol-tablet");
        await _server.Service.DeleteNodeAsync(carols.Id);
        await _server.Service.RenameNodeAsync(bobs.Id, "bob-desktop");
        await _server.Service.DeleteNodeAsync(bobs.Id);
        var streamed = new List<(string Name, JsonElement Data)>();
        while (streamed.LastOrDefault().Name != "removed")
        {
            streamed.Add(await stream.NextEventOrEndAsync() ?? throw new InvalidOperationException("the stream ended"));
        }

        Assert.All(streamed, e => Assert.Equal(bobs.Id, e.Data.GetProperty("id").GetInt64()));
        Assert.Contains(streamed, e => e.Name == "node" && e.Data.GetProperty("name").GetString() == "bob-desktop");
    }

    [Fact]
    public async Task Without_a_session_there_is_no_stream()
    {
        using var client = new HttpClient { BaseAddress = _server.Url };
        using var response = await client.GetAsync(ConsoleEventsEndpoint.Path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_stream_ends_at_its_next_heartbeat_once_its_session_has_ended_and_heartbeats_keep_it_open_till_then()
    {
        var (id, _) = _server.Console!.Open("alice", "alice@example.com", isAdmin: true);
        using var stream = await EventStream.OpenAsync(_server.Url, id);
        await stream.NextAsync("ready");

        _server.Clock.Advance(ConsoleLiveFeed.HeartbeatInterval);
        var heartbeat = await stream.NextLineAsync();
        _server.Console.Close(id);
        _server.Clock.Advance(ConsoleLiveFeed.HeartbeatInterval);

        Assert.Equal(": heartbeat", heartbeat);
        Assert.Null(await stream.NextEventOrEndAsync());
    }

    /// <summary>A server-sent event stream read line by line, as EventSource does.</summary>
    private sealed class EventStream : IDisposable
    {
        private readonly HttpClient _client;
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpClient client, HttpResponseMessage response, StreamReader reader)
        {
            _client = client;
            _response = response;
            _reader = reader;
        }

        public static async Task<EventStream> OpenAsync(Uri server, string session)
        {
            var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, ConsoleEventsEndpoint.Path);
            request.Headers.Add("Cookie", $"{ConsoleCookie.Name}={session}");
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            return new EventStream(client, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<string?> NextLineAsync()
        {
            using var safety = new CancellationTokenSource(Safety);
            string? line;
            do
            {
                line = await _reader.ReadLineAsync(safety.Token);
            }
            while (line == "");
            return line;
        }

        /// <summary>The next event's name and data, skipping comments; null when the stream ends.</summary>
        public async Task<(string Name, JsonElement Data)?> NextEventOrEndAsync()
        {
            string? name = null;
            while (await NextLineAsync() is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
                {
                    return (name, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                }
            }

            return null;
        }

        public async Task<JsonElement> NextAsync(string name)
        {
            while (true)
            {
                var next = await NextEventOrEndAsync() ?? throw new InvalidOperationException($"the stream ended before a {name} event");
                if (next.Name == name)
                {
                    return next.Data;
                }

                // Only "node" events may come between: a reconciliation of a node registered before the stream opened.
                Assert.Equal("node", next.Name);
            }
        }

        public async Task<JsonElement> NextNodeAsync(Func<JsonElement, bool> wanted)
        {
            while (true)
            {
                var node = await NextAsync("node");
                if (wanted(node))
                {
                    return node;
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
            _client.Dispose();
        }
    }
}
