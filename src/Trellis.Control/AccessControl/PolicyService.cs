using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;

namespace Trellis.Control.AccessControl;

/// <summary>
/// The access policy's life: loaded at start (from the policy file when one is configured, else
/// from the database), set and removed through the admin API, reloaded when the file changes.
/// A text is compiled before anything else happens, so a refused policy changes nothing; one that
/// compiles goes to the store (tag and route rules) and the mesh (views and filters), and advertised
/// routes it auto-approves are approved. Changes are serialised: the last one compiled is the one in force.
/// </summary>
public sealed partial class PolicyService(ControlService service, IPolicyCompiler compiler, string? policyFile, ILogger<PolicyService> logger)
{
    /// <summary>The largest policy accepted, from the API or the file; far above any real one.</summary>
    public const int MaxPolicyBytes = 1024 * 1024;

    private readonly SemaphoreSlim _changes = new(1, 1);
    private volatile PolicyInForce _current = PolicyInForce.None;

    // guarded by _changes: a file that was refused once is not refused (and logged) again until it changes
    private string? _refusedFileText;

    /// <summary>The configured policy file (full path), or null when the policy lives in the database.</summary>
    public string? PolicyFile { get; } = policyFile is null ? null : Path.GetFullPath(policyFile);

    public PolicyInForce Current => _current;

    // When SayInForce speaks: the same line for every way a policy comes into force, so one search finds them all.
    private const string AtStartUp = "at start-up";
    private const string AfterApiChange = "after a change through the admin API";
    private const string AfterFileChange = "after the policy file changed";
    private const string AfterReplicaChange = "after a change on another replica";

    /// <summary>Puts the configured policy in force at start-up, saying loudly when there is none.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PolicyInForce? loaded;
            if (PolicyFile is { } path)
            {
                var refused = new PolicyInForce(DenyAllPolicy.Instance, PolicyOrigin.File, Path: path);
                var (text, problem) = await ReadFileLockedAsync(cancellationToken).ConfigureAwait(false);
                if (text is null)
                {
                    LogRefusedAtStart(logger, refused.Describe(), problem!);
                    loaded = refused;
                }
                else
                {
                    loaded = CompileAtStart(text, refused with { Text = text });
                }
            }
            else if (await service.Store.GetPolicyAsync(cancellationToken).ConfigureAwait(false) is { } stored)
            {
                loaded = CompileAtStart(stored.Text, new PolicyInForce(
                    DenyAllPolicy.Instance, PolicyOrigin.Database, stored.Text, UpdatedBy: stored.UpdatedBy, UpdatedAt: stored.UpdatedAt));
            }
            else
            {
                LogNoPolicy(logger);
                return;
            }

            if (loaded.Policy is not DenyAllPolicy)
            {
                SayInForce(AtStartUp, loaded);
            }

            await ApplyLockedAsync(loaded).ConfigureAwait(false);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Compiles and stores a policy from the API; throws <see cref="PolicyException"/> (nothing changed) when refused.</summary>
    public async Task<PolicyInForce> SetAsync(string text, string setBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var policy = compiler.Compile(text);
            var stored = await service.Store.SetPolicyAsync(text, setBy, cancellationToken).ConfigureAwait(false);
            var inForce = new PolicyInForce(policy, PolicyOrigin.Database, text, policy.RuleCount, UpdatedBy: stored.UpdatedBy, UpdatedAt: stored.UpdatedAt);
            await ApplyLockedAsync(inForce).ConfigureAwait(false);
            SayInForce(AfterApiChange, inForce);
            return inForce;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Puts the stored policy in force after another replica set or removed it (the change feed).
    /// A server with a policy file keeps its file's. The other replica already applied the
    /// policy's auto-approvals to the store; their rows reach this one through the feed.
    /// </summary>
    public async Task ReloadStoredAsync(CancellationToken cancellationToken)
    {
        if (PolicyFile is not null)
        {
            return;
        }

        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await service.Store.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                if (_current.Origin == PolicyOrigin.Database)
                {
                    await ApplyLockedAsync(PolicyInForce.None, reapplyAutoApprovals: false).ConfigureAwait(false);
                    LogRemoved(logger, "another replica");
                }

                return;
            }

            if (stored.Text == _current.Text && _current.Origin == PolicyOrigin.Database)
            {
                return;
            }

            var inForce = CompileAtStart(stored.Text, new PolicyInForce(
                DenyAllPolicy.Instance, PolicyOrigin.Database, stored.Text, UpdatedBy: stored.UpdatedBy, UpdatedAt: stored.UpdatedAt));
            await ApplyLockedAsync(inForce, reapplyAutoApprovals: false).ConfigureAwait(false);
            SayInForce(AfterReplicaChange, inForce);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Compiles a policy and runs its tests without putting it in force; its rule count, or <see cref="PolicyException"/>.</summary>
    public int? Check(string text) => compiler.Compile(text).RuleCount;

    /// <summary>Removes the stored policy: every node reaches every other again. False when there was none.</summary>
    public async Task<bool> RemoveAsync(string removedBy, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var removed = await service.Store.DeletePolicyAsync(cancellationToken).ConfigureAwait(false);
            if (removed || _current.Origin == PolicyOrigin.Database)
            {
                await ApplyLockedAsync(PolicyInForce.None).ConfigureAwait(false);
                LogRemoved(logger, removedBy);
            }

            return removed;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Reads the policy file again; a changed text that compiles goes in force, one that is refused
    /// is logged with its line and column and the previous policy stays. True when the policy changed.
    /// </summary>
    public async Task<bool> ReloadFileAsync(CancellationToken cancellationToken)
    {
        if (PolicyFile is not { } path)
        {
            return false;
        }

        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (text, problem) = await ReadFileLockedAsync(cancellationToken).ConfigureAwait(false);
            if (text is null)
            {
                LogFileUnusable(logger, path, problem!);
                return false;
            }

            if (text == _current.Text || text == _refusedFileText)
            {
                return false; // no change in content
            }

            IAccessPolicy policy;
            try
            {
                policy = compiler.Compile(text);
            }
            catch (Exception e) when (e is PolicyException || !IsFatal(e))
            {
                _refusedFileText = text;
                LogReloadRefused(logger, path, e.Message);
                return false;
            }

            _refusedFileText = null;
            var inForce = new PolicyInForce(policy, PolicyOrigin.File, text, policy.RuleCount, path);
            await ApplyLockedAsync(inForce).ConfigureAwait(false);
            SayInForce(AfterFileChange, inForce);
            return true;
        }
        finally
        {
            _changes.Release();
        }
    }

    private PolicyInForce CompileAtStart(string text, PolicyInForce refused)
    {
        try
        {
            var policy = compiler.Compile(text);
            return refused with { Policy = policy, Rules = policy.RuleCount };
        }
        catch (Exception e) when (e is PolicyException || !IsFatal(e))
        {
            LogRefusedAtStart(logger, refused.Describe(), e.Message);
            return refused;
        }
    }

    /// <summary>The file's text, or null and what a person should fix when it cannot be read or is too large.</summary>
    private async Task<(string? Text, string? Problem)> ReadFileLockedAsync(CancellationToken cancellationToken)
    {
        var path = PolicyFile!;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxPolicyBytes)
            {
                return (null, $"it holds {length} bytes, more than the {MaxPolicyBytes} a policy may have");
            }

            var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            return (null, e is DecoderFallbackException ? "it is not UTF-8 text" : e.Message);
        }
    }

    private async Task ApplyLockedAsync(PolicyInForce inForce, bool reapplyAutoApprovals = true)
    {
        _current = inForce;
        service.Store.AccessPolicy = inForce.Policy;
        service.Mesh.SetPolicy(inForce.Policy);
        if (inForce.Policy.AllowsAll || !reapplyAutoApprovals)
        {
            return; // approvals are never withdrawn, and allow-all approves nothing new
        }

        foreach (var node in await service.Store.ReapplyAutoApprovalsAsync().ConfigureAwait(false))
        {
            await service.PublishAsync(node.Id).ConfigureAwait(false);
        }
    }

    /// <summary>Says what is in force and where it came from; a policy of no rules cuts every node off, so that is a warning.</summary>
    private void SayInForce(string occasion, PolicyInForce inForce)
    {
        if (inForce.Rules == 0)
        {
            LogInForceGrantingNothing(logger, occasion, inForce.Describe());
        }
        else
        {
            LogInForce(logger, occasion, inForce.Rules?.ToString(CultureInfo.InvariantCulture) ?? "an unknown number of", inForce.Describe());
        }
    }

    private static bool IsFatal(Exception e) => e is OutOfMemoryException or OperationCanceledException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "no access policy: every node can reach every other (set one with `trellis policy set FILE`, or policy-file in the configuration)")]
    private static partial void LogNoPolicy(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "access policy in force {Occasion}: {Rules} rule(s), from {Source}")]
    private static partial void LogInForce(ILogger logger, string occasion, string rules, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "access policy in force {Occasion}: 0 rules, from {Source}; it grants nothing, so no node can reach another until a rule is added")]
    private static partial void LogInForceGrantingNothing(ILogger logger, string occasion, string source);

    [LoggerMessage(Level = LogLevel.Error, Message = "the access policy from {Source} was refused ({Reason}); until it is fixed no node can reach another")]
    private static partial void LogRefusedAtStart(ILogger logger, string source, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "access policy removed by {Caller}: every node can reach every other")]
    private static partial void LogRemoved(ILogger logger, string caller);

    [LoggerMessage(Level = LogLevel.Error, Message = "the changed policy file {Path} was refused ({Reason}); the previous policy stays in force")]
    private static partial void LogReloadRefused(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot use the policy file {Path}: {Reason}; the previous policy stays in force")]
    private static partial void LogFileUnusable(ILogger logger, string path, string reason);
}
