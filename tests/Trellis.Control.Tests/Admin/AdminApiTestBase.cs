using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Trellis.Control.Admin;
using Trellis.Control.Policy;

namespace Trellis.Control.Tests.Admin;

/// <summary>Each test gets its own server, database and mesh; Api is a client holding a valid API key.</summary>
public abstract class AdminApiTestBase : IAsyncLifetime
{
    private protected AdminTestServer Server { get; private set; } = null!;

    protected HttpClient Api { get; private set; } = null!;

    /// <summary>The server's policy compiler; none by default, as a server without the policy language.</summary>
    private protected virtual IPolicyCompiler? Compiler => null;

    public async Task InitializeAsync()
    {
        Server = await AdminTestServer.StartAsync(compiler: Compiler);
        Api = Server.Client();
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
    }

    protected static AdminJsonContext Json => AdminJsonContext.Default;

    protected async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = AdminTestServer.Json(json);
        }

        using var response = await (client ?? Api).SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    protected Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string? json = null) => SendAsync(HttpMethod.Post, path, json);

    protected Task<(HttpStatusCode Status, string Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    protected Task<(HttpStatusCode Status, string Body)> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    /// <summary>Asserts the status and reads the body as <typeparamref name="T"/>.</summary>
    protected static T Expect<T>((HttpStatusCode Status, string Body) response, HttpStatusCode status, JsonTypeInfo<T> type)
    {
        Assert.True(status == response.Status, $"expected {status}, got {(int)response.Status}: {response.Body}");
        return JsonSerializer.Deserialize(response.Body, type)!;
    }

    /// <summary>Asserts an error answer: the status, a JSON {"error": ...} with a message, no internals.</summary>
    protected static string ExpectError((HttpStatusCode Status, string Body) response, HttpStatusCode status)
    {
        var error = Expect(response, status, Json.ErrorResponse);
        Assert.False(string.IsNullOrWhiteSpace(error.Error));
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", response.Body, StringComparison.Ordinal);
        return error.Error;
    }
}
