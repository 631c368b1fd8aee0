using System.Net;
using System.Text;

namespace Trellis.Control.Tests.TestDoubles;

/// <summary>Answers each request with the JSON registered for its URL (404 otherwise), and counts what was asked.</summary>
internal sealed class StaticHttpHandler(Dictionary<string, string> answers) : HttpMessageHandler
{
    public List<string> Asked { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var url = request.RequestUri!.AbsoluteUri;
        Asked.Add(url);
        return Task.FromResult(answers.TryGetValue(url, out var body)
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") }
            : new HttpResponseMessage(HttpStatusCode.NotFound));
    }
}
