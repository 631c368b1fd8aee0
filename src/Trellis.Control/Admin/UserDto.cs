using Trellis.Control.Store;

namespace Trellis.Control.Admin;

public sealed record UserDto(long Id, string Name, DateTimeOffset CreatedAt)
{
    public static UserDto From(User user) => new(user.Id, user.Name, user.CreatedAt);
}
