using System.Net;
using Microsoft.EntityFrameworkCore;
using Trellis.Core.Build;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

/// <summary>
/// The control server's database. One model for both providers; each provider has its own
/// subclass only so that it can carry its own migration set.
/// </summary>
public abstract class TrellisDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    public DbSet<AuthKey> AuthKeys => Set<AuthKey>();

    public DbSet<Node> Nodes => Set<Node>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<Setting> Settings => Set<Setting>();

    public DbSet<AccessPolicyRecord> AccessPolicies => Set<AccessPolicyRecord>();

    public abstract StoreProvider Provider { get; }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<Key>().HaveConversion<KeyHexConverter>().HaveMaxLength(Key.Size * 2);
        configurationBuilder.Properties<IPAddress>().HaveConversion<IPAddressTextConverter>().HaveMaxLength(45);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(user =>
        {
            user.Property(u => u.Name).HasMaxLength(DnsNames.MaxLabelLength);
            user.HasIndex(u => u.Name).IsUnique();
            user.Property(u => u.IdentityIssuer).HasMaxLength(User.MaxIdentityLength);
            user.Property(u => u.IdentitySubject).HasMaxLength(User.MaxIdentityLength);
            user.Property(u => u.Email).HasMaxLength(User.MaxIdentityLength);

            // One user per person at one provider, whatever their email says.
            user.HasIndex(u => new { u.IdentityIssuer, u.IdentitySubject }).IsUnique();
        });

        modelBuilder.Entity<AuthKey>(key =>
        {
            key.Property(k => k.Prefix).HasMaxLength(SecretKeys.PrefixLength);
            key.HasIndex(k => k.Prefix).IsUnique();

            // A user's keys die with the user; nodes keep running and only lose the link.
            key.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<Node>(node =>
        {
            node.Property(n => n.Name).HasMaxLength(DnsNames.MaxLabelLength);
            node.Property(n => n.Status).HasConversion<string>().HasMaxLength(16);
            node.HasIndex(n => n.MachineKey).IsUnique();
            node.HasIndex(n => n.NodeKey).IsUnique();

            // Not unique: a database from before the rule may hold duplicates; registration refuses new ones.
            node.HasIndex(n => n.DiscoKey);
            node.HasIndex(n => n.Name).IsUnique();
            node.HasIndex(n => n.IPv4).IsUnique();
            node.HasIndex(n => n.IPv6).IsUnique();
            node.Property(n => n.GatewayEndpoint).HasMaxLength(260);
            node.Property(n => n.Version).HasMaxLength(NodeVersion.MaxLength);
            node.Property(n => n.Replica).HasMaxLength(Node.MaxReplicaLength);

            // A gateway's plain peers are found by it (its map, its deletion).
            node.HasIndex(n => n.GatewayId);

            // The store refuses to delete a user who owns nodes; the restriction is the backstop.
            node.HasOne(n => n.User).WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Restrict);
            node.HasOne<AuthKey>().WithMany().HasForeignKey(n => n.AuthKeyId).OnDelete(DeleteBehavior.SetNull);
        });

        modelBuilder.Entity<ApiKey>(key =>
        {
            key.Property(k => k.Prefix).HasMaxLength(SecretKeys.PrefixLength);
            key.HasIndex(k => k.Prefix).IsUnique();
        });

        modelBuilder.Entity<Setting>(setting =>
        {
            setting.HasKey(s => s.Key);
            setting.Property(s => s.Key).HasMaxLength(128);
        });

        modelBuilder.Entity<AccessPolicyRecord>(policy =>
        {
            policy.HasKey(p => p.Id);
            policy.Property(p => p.Id).ValueGeneratedNever();
            policy.Property(p => p.UpdatedBy).HasMaxLength(AccessPolicyRecord.MaxUpdatedByLength);
        });
    }
}

/// <summary>Which database engine a store runs on.</summary>
public enum StoreProvider
{
    Sqlite,
    Postgres,
}
