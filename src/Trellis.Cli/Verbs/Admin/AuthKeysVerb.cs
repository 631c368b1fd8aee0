using System.CommandLine;
using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis authkeys create|list|expire`.</summary>
internal static class AuthKeysVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var keys = new Command("authkeys", "Manage auth keys, which register nodes without an admin's approval.");
        options.AddTo(keys);
        keys.Subcommands.Add(Create(options));
        keys.Subcommands.Add(List(options));
        keys.Subcommands.Add(Expire(options));
        return keys;
    }

    private static Command Create(AdminOptions options)
    {
        var user = new Option<string?>("--user") { Description = "The user who will own the nodes the key registers." };
        var tags = new Option<string[]>("--tags") { Description = "Tags that will own the nodes instead (tag:server or server; comma-separated or repeated)." };
        var reusable = new Option<bool>("--reusable") { Description = "Let the key register any number of nodes (default: one)." };
        var ephemeral = new Option<bool>("--ephemeral") { Description = "Nodes it registers are removed once they stay offline." };
        var expiration = new Option<string?>("--expiration") { Description = "When the key stops working: a lifetime (30m, 24h, 7d) or an ISO 8601 time (default: 1h)." };
        var command = new Command("create", "Create an auth key and print it; it is shown only this once.") { user, tags, reusable, ephemeral, expiration };
        command.SetAdminAction(options, "authkeys create", async run =>
        {
            var owner = run.Parse.GetValue(user);
            var tagList = AdminText.Tags(run.Parse.GetValue(tags));
            if ((owner is null) == (tagList is null))
            {
                throw AdminCommandException.Usage("give either --user or --tags: an auth key is owned by a user or by tags");
            }

            var lifetime = AdminArguments.Expiration(run.Parse.GetValue(expiration), Expirations.DefaultAuthKeyLifetime);
            var request = new CreateAuthKeyRequest
            {
                User = owner,
                Tags = tagList,
                Reusable = run.Parse.GetValue(reusable),
                Ephemeral = run.Parse.GetValue(ephemeral),
                Expiration = lifetime,
            };
            var created = await run.Client.PostAsync(
                "api/v1/authkeys", request, AdminJsonContext.Default.CreateAuthKeyRequest, AdminJsonContext.Default.CreatedAuthKeyDto, run.CancellationToken).ConfigureAwait(false);

            // Alone on stdout, so that KEY=$(trellis authkeys create ...) works.
            run.Output.WriteLine(run.Json ? created.Json : created.Value.Key);
        });
        return command;
    }

    private static Command List(AdminOptions options)
    {
        var user = new Option<string?>("--user") { Description = "Only this user's keys." };
        var command = new Command("list", "List auth keys (never their secrets).") { user };
        command.SetAdminAction(options, "authkeys list", async run =>
        {
            var path = run.Parse.GetValue(user) is { } owner ? $"api/v1/authkeys?user={Uri.EscapeDataString(owner)}" : "api/v1/authkeys";
            var keys = await run.Client.GetAsync(path, AdminJsonContext.Default.IReadOnlyListAuthKeyDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(keys.Json);
                return;
            }

            var table = new TextTable("PREFIX", "OWNER", "REUSABLE", "EPHEMERAL", "USES", "EXPIRES", "STATE");
            foreach (var key in keys.Value)
            {
                table.Add(
                    key.Prefix, AdminText.Owner(key.User, key.Tags), AdminText.YesNo(key.Reusable), AdminText.YesNo(key.Ephemeral),
                    key.Uses.ToString(System.Globalization.CultureInfo.InvariantCulture), AdminText.Time(key.ExpiresAt), State(key));
            }

            table.WriteTo(run.Output);
        });
        return command;
    }

    private static Command Expire(AdminOptions options)
    {
        var key = new Argument<string>("PREFIX") { Description = "The key's prefix (as listed), or the whole key." };
        var command = new Command("expire", "Revoke an auth key; nodes it registered stay.") { key };
        command.SetAdminAction(options, "authkeys expire", async run =>
        {
            var prefix = AdminArguments.KeyPrefix(run.Parse.GetRequiredValue(key), SecretKeys.AuthKind);
            var expired = await run.Client.PostAsync($"api/v1/authkeys/{prefix}/expire", AdminJsonContext.Default.AuthKeyDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json ? expired.Json : $"expired auth key {expired.Value.Prefix}");
        });
        return command;
    }

    private static string State(AuthKeyDto key) =>
        key.Revoked ? "revoked" : key.Usable ? "usable" : !key.Reusable && key.Uses > 0 ? "used" : "expired";
}
