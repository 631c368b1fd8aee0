using System.Net;

namespace Trellis.Control.Tests.Admin;

public sealed class UsersApiTests : AdminApiTestBase
{
    [Fact]
    public async Task A_created_user_is_listed_with_its_name_lowercased()
    {
        var created = Expect(await PostAsync("/api/v1/users", """{"name":"Alice"}"""), HttpStatusCode.Created, Json.UserDto);
        Assert.Equal("alice", created.Name);
        Assert.True(created.Id > 0);

        var users = Expect(await GetAsync("/api/v1/users"), HttpStatusCode.OK, Json.IReadOnlyListUserDto);
        Assert.Equal(["alice"], users.Select(u => u.Name));
    }

    [Fact]
    public async Task Creating_a_user_twice_is_a_conflict()
    {
        await PostAsync("/api/v1/users", """{"name":"alice"}""");
        var response = await PostAsync("/api/v1/users", """{"name":"ALICE"}""");
        Assert.Equal("user 'alice' already exists", ExpectError(response, HttpStatusCode.Conflict));
        Assert.Contains("'alice'", response.Body, StringComparison.Ordinal); // readable JSON, not \u0027
    }

    [Theory]
    [InlineData("""{"name":"not a label"}""", "invalid user name")]
    [InlineData("""{"name":"-alice"}""", "invalid user name")]
    [InlineData("""{"name":""}""", "invalid user name")]
    [InlineData("""{"name":null}""", "invalid JSON")]
    [InlineData("""{}""", "invalid JSON")]
    [InlineData("""{"name":"alice","admin":true}""", "invalid JSON")]
    [InlineData("""{"name":42}""", "invalid JSON")]
    [InlineData("""{"name":"alice""", "invalid JSON")]
    [InlineData("""[]""", "invalid JSON")]
    [InlineData("""null""", "JSON object is required")]
    [InlineData("", "JSON object is required")]
    [InlineData("name=alice", "invalid JSON")]
    public async Task A_bad_user_body_is_a_400_with_a_message(string body, string message)
    {
        var error = ExpectError(await PostAsync("/api/v1/users", body), HttpStatusCode.BadRequest);
        Assert.Contains(message, error);
        Assert.Empty(await Server.Store.ListUsersAsync());
    }

    [Fact]
    public async Task A_user_without_nodes_can_be_deleted()
    {
        await Server.CreateUserAsync("alice");
        var (status, body) = await DeleteAsync("/api/v1/users/alice");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Empty(body);
        Assert.Empty(await Server.Store.ListUsersAsync());
    }

    [Fact]
    public async Task Deleting_an_unknown_user_is_a_404_and_a_bad_name_a_400()
    {
        ExpectError(await DeleteAsync("/api/v1/users/nobody"), HttpStatusCode.NotFound);
        ExpectError(await DeleteAsync("/api/v1/users/not_a_label"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_user_who_owns_nodes_cannot_be_deleted()
    {
        await Server.RegisterAsync("alice", "laptop");
        var error = ExpectError(await DeleteAsync("/api/v1/users/alice"), HttpStatusCode.Conflict);
        Assert.Contains("owns", error);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_without_a_500()
    {
        var huge = $$"""{"name":"{{new string('a', 300 * 1024)}}"}""";
        ExpectError(await PostAsync("/api/v1/users", huge), HttpStatusCode.RequestEntityTooLarge);
    }
}
