namespace Trellis.Cli.Tests.Admin;

public sealed class UsersCliTests : AdminCliTestBase
{
    [Fact]
    public async Task Users_are_created_listed_and_deleted()
    {
        Assert.Equal("created user alice (id 1)\n", await OkAsync("users", "create", "Alice"));
        var bob = await JsonAsync(Json.UserDto, "users", "create", "bob");
        Assert.Equal("bob", bob.Name);

        var rows = Rows(await OkAsync("users", "list"));
        Assert.Equal(["ID", "NAME", "CREATED"], rows[0]);
        Assert.Equal(["alice", "bob"], rows.Skip(1).Select(r => r[1]));

        var listed = await JsonAsync(Json.IReadOnlyListUserDto, "users", "list");
        Assert.Equal(["alice", "bob"], listed.Select(u => u.Name));

        Assert.Equal("deleted user alice\n", await OkAsync("users", "delete", "alice"));
        Assert.Empty(await OkAsync("users", "delete", "bob", "--json"));
        Assert.Single(Rows(await OkAsync("users", "list")));
    }

    [Fact]
    public async Task Server_refusals_are_one_line_and_exit_1()
    {
        await OkAsync("users", "create", "alice");
        var error = ExpectFailure(await RunAsync("users", "create", "alice"), 1);
        Assert.Equal("trellis users create: user 'alice' already exists\n", error);

        Assert.Contains("no user 'nobody'", ExpectFailure(await RunAsync("users", "delete", "nobody"), 1));
        Assert.Contains("invalid user name", ExpectFailure(await RunAsync("users", "create", "not_a_label"), 1));

        await Server.RegisterAsync("alice", "laptop");
        Assert.Contains("owns", ExpectFailure(await RunAsync("users", "delete", "alice"), 1));
    }

    [Fact]
    public async Task A_missing_argument_or_subcommand_is_a_usage_error()
    {
        ExpectFailure(await RunAsync("users", "create"), 2);
        ExpectFailure(await RunRawAsync("users"), 2);
        ExpectFailure(await RunAsync("users", "frobnicate"), 2);
    }
}
