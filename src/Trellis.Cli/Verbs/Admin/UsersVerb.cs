using System.CommandLine;
using System.Globalization;
using Trellis.Control.Admin;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis users create|list|delete`.</summary>
internal static class UsersVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var users = new Command("users", "Manage users, who own nodes and auth keys.");
        options.AddTo(users);
        users.Subcommands.Add(Create(options));
        users.Subcommands.Add(List(options));
        users.Subcommands.Add(Delete(options));
        return users;
    }

    private static Command Create(AdminOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The user's name: a DNS label (letters, digits, hyphens)." };
        var command = new Command("create", "Create a user.") { name };
        command.SetAdminAction(options, "users create", async run =>
        {
            var created = await run.Client.PostAsync(
                "api/v1/users", new CreateUserRequest { Name = run.Parse.GetRequiredValue(name) },
                AdminJsonContext.Default.CreateUserRequest, AdminJsonContext.Default.UserDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json ? created.Json : $"created user {created.Value.Name} (id {created.Value.Id})");
        });
        return command;
    }

    private static Command List(AdminOptions options)
    {
        var command = new Command("list", "List users.");
        command.SetAdminAction(options, "users list", async run =>
        {
            var users = await run.Client.GetAsync("api/v1/users", AdminJsonContext.Default.IReadOnlyListUserDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(users.Json);
                return;
            }

            var table = new TextTable("ID", "NAME", "CREATED");
            foreach (var user in users.Value)
            {
                table.Add(user.Id.ToString(CultureInfo.InvariantCulture), user.Name, AdminText.Time(user.CreatedAt));
            }

            table.WriteTo(run.Output);
        });
        return command;
    }

    private static Command Delete(AdminOptions options)
    {
        var name = new Argument<string>("NAME") { Description = "The user to delete; they must own no nodes." };
        var command = new Command("delete", "Delete a user and their auth keys.") { name };
        command.SetAdminAction(options, "users delete", async run =>
        {
            var user = run.Parse.GetRequiredValue(name);
            await run.Client.DeleteAsync($"api/v1/users/{Uri.EscapeDataString(user)}", run.CancellationToken).ConfigureAwait(false);
            if (!run.Json)
            {
                run.Output.WriteLine($"deleted user {user.ToLowerInvariant()}");
            }
        });
        return command;
    }
}
