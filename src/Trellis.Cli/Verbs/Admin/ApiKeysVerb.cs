using System.CommandLine;
using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis apikeys create|list|expire`: keys for the admin API from other hosts.</summary>
internal static class ApiKeysVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var keys = new Command("apikeys", "Manage admin API keys, which let the CLI and scripts administer the server remotely.");
        options.AddTo(keys);
        keys.Subcommands.Add(Create(options));
        keys.Subcommands.Add(List(options));
        keys.Subcommands.Add(Expire(options));
        return keys;
    }

    private static Command Create(AdminOptions options)
    {
        var expiration = new Option<string?>("--expiration") { Description = "When the key stops working: a lifetime (24h, 30d) or an ISO 8601 time (default: 90d)." };
        var command = new Command("create", "Create an API key and print it; it is shown only this once.") { expiration };
        command.SetAdminAction(options, "apikeys create", async run =>
        {
            var request = new CreateApiKeyRequest { Expiration = AdminArguments.Expiration(run.Parse.GetValue(expiration), Expirations.DefaultApiKeyLifetime) };
            var created = await run.Client.PostAsync(
                "api/v1/apikeys", request, AdminJsonContext.Default.CreateApiKeyRequest, AdminJsonContext.Default.CreatedApiKeyDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json ? created.Json : created.Value.Key);
        });
        return command;
    }

    private static Command List(AdminOptions options)
    {
        var command = new Command("list", "List API keys (never their secrets).");
        command.SetAdminAction(options, "apikeys list", async run =>
        {
            var keys = await run.Client.GetAsync("api/v1/apikeys", AdminJsonContext.Default.IReadOnlyListApiKeyDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(keys.Json);
                return;
            }

            var table = new TextTable("PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATE");
            foreach (var key in keys.Value)
            {
                table.Add(key.Prefix, AdminText.Time(key.CreatedAt), AdminText.Time(key.ExpiresAt), AdminText.Time(key.LastUsedAt), key.Expired ? "expired" : "usable");
            }

            table.WriteTo(run.Output);
        });
        return command;
    }

    private static Command Expire(AdminOptions options)
    {
        var key = new Argument<string>("PREFIX") { Description = "The key's prefix (as listed), or the whole key." };
        var command = new Command("expire", "End an API key now.") { key };
        command.SetAdminAction(options, "apikeys expire", async run =>
        {
            var prefix = AdminArguments.KeyPrefix(run.Parse.GetRequiredValue(key), SecretKeys.ApiKind);
            var expired = await run.Client.PostAsync($"api/v1/apikeys/{prefix}/expire", AdminJsonContext.Default.ApiKeyDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json ? expired.Json : $"expired API key {expired.Value.Prefix}");
        });
        return command;
    }
}
