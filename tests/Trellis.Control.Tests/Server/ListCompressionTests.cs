using System.IO.Compression;
using System.Net.Http.Headers;
using Trellis.Control.Store;
using Trellis.Control.Tests.NodeProtocol;

namespace Trellis.Control.Tests.Server;

/// <summary>The node list and the console's files go out compressed to a client that asks; answers that carry secrets never do.</summary>
public sealed class ListCompressionTests
{
    [Fact]
    public async Task The_node_list_is_sent_compressed_and_reads_back_the_same_while_key_answers_are_not()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddHours(1));
        for (var i = 0; i < 50; i++)
        {
            var registered = await server.Store.RegisterNodeAsync(new RegistrationRequest(key, NewKey(), NewKey(), NewKey(), $"box-{i}"));
            Assert.IsType<RegistrationResult.Registered>(registered);
        }

        var apiKey = (await server.Store.CreateApiKeyAsync()).Value!.Plaintext;
        using var plain = Client(server.Url, apiKey, encoding: null);
        using var brotli = Client(server.Url, apiKey, encoding: "br");
        using var gzip = Client(server.Url, apiKey, encoding: "gzip");

        var expected = await plain.GetStringAsync("/api/v1/nodes");
        foreach (var (client, name) in new[] { (brotli, "br"), (gzip, "gzip") })
        {
            using var response = await client.GetAsync("/api/v1/nodes");
            Assert.Equal([name], response.Content.Headers.ContentEncoding);
            var compressed = await response.Content.ReadAsByteArrayAsync();
            Assert.True(compressed.Length * 3 < System.Text.Encoding.UTF8.GetByteCount(expected), $"{name}: {compressed.Length} bytes for {expected.Length}");
            Assert.Equal(expected, Decompress(compressed, name));
        }

        using var script = await brotli.GetAsync("/admin/console.js");
        Assert.Equal(["br"], script.Content.Headers.ContentEncoding);

        // A new auth key is a secret in the answer: never compressed.
        using var created = await brotli.PostAsync("/api/v1/authkeys", new StringContent("""{"user":"alice"}""", new MediaTypeHeaderValue("application/json")));
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.Empty(created.Content.Headers.ContentEncoding);
        using var session = await brotli.GetAsync("/admin/session");
        Assert.Empty(session.Content.Headers.ContentEncoding);
    }

    private static Trellis.Core.Keys.Key NewKey() => Trellis.Crypto.X25519.PublicKey(Trellis.Crypto.X25519.GeneratePrivateKey());

    private static HttpClient Client(Uri url, string apiKey, string? encoding)
    {
        // No automatic decompression: the test reads what went over the wire.
        var client = new HttpClient(new HttpClientHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { BaseAddress = url };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        if (encoding is not null)
        {
            client.DefaultRequestHeaders.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
        }

        return client;
    }

    private static string Decompress(byte[] bytes, string encoding)
    {
        using var input = new MemoryStream(bytes);
        using Stream stream = encoding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
