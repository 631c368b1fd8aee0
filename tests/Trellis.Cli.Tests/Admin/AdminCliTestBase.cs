using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Trellis.Control.Admin;
using Trellis.Control.Policy;

namespace Trellis.Cli.Tests.Admin;

/// <summary>Each test runs `trellis` verbs in-process against its own server, capturing stdout and stderr.</summary>
public abstract class AdminCliTestBase : IAsyncLifetime
{
    private protected AdminCliServer Server { get; private set; } = null!;

    protected static AdminJsonContext Json => AdminJsonContext.Default;

    /// <summary>The server's policy compiler; none by default, as a server without the policy language.</summary>
    private protected virtual IPolicyCompiler? Compiler => null;

    public async Task InitializeAsync() => Server = await AdminCliServer.StartAsync(Compiler);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Runs the verb as given (no connection options added).</summary>
    protected static async Task<(int Code, string Output, string Error)> RunRawAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // Off the test's synchronization context: CommandLine.Run blocks on the async verb.
        var code = await Task.Run(() => CommandLine.Run(args, output, error));
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the verb against the server's TCP listener with its API key.</summary>
    protected Task<(int Code, string Output, string Error)> RunAsync(params string[] args) =>
        RunRawAsync([.. args, "--server", Server.Url, "--api-key", Server.ApiKey]);

    /// <summary>Runs the verb, expects success, and returns stdout.</summary>
    protected async Task<string> OkAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        Assert.True(code == 0, $"trellis {string.Join(' ', args)} exited {code}: {error}");
        Assert.Empty(error);
        return output;
    }

    /// <summary>Runs the verb with --json, expects success, and parses stdout.</summary>
    protected async Task<T> JsonAsync<T>(JsonTypeInfo<T> type, params string[] args) =>
        JsonSerializer.Deserialize(await OkAsync([.. args, "--json"]), type)!;

    /// <summary>Runs the verb, expects the exit code, and returns its single line of stderr.</summary>
    protected static string ExpectFailure((int Code, string Output, string Error) result, int code)
    {
        Assert.True(result.Code == code, $"expected exit {code}, got {result.Code}: {result.Error}");
        Assert.Empty(result.Output);
        Assert.StartsWith("trellis", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        return result.Error;
    }

    /// <summary>Table rows as cells (split on runs of two or more spaces), header first.</summary>
    protected static List<string[]> Rows(string table) =>
        [.. table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => System.Text.RegularExpressions.Regex.Split(line.TrimEnd(), " {2,}"))];
}
