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

    /// <summary>Puts the configured policy in force at start-up, saying loudly when there is none.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            PolicyInForce? loaded;
            if (PolicyFile is { } path)
            {
                loaded = await ReadFileLockedAsync(cancellationToken).ConfigureAwait(false) is { } text
                    ? CompileAtStart(text, new PolicyInForce(DenyAllPolicy.Instance, PolicyOrigin.File, text, Path: path))
                    : new PolicyInForce(DenyAllPolicy.Instance, PolicyOrigin.File, Path: path);
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
                LogInForce(logger, RulesText(loaded.Rules), loaded.Describe());
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
            var inForce = new PolicyInForce(policy, PolicyOrigin.Database, text, PolicyRules.Count(text), UpdatedBy: stored.UpdatedBy, UpdatedAt: stored.UpdatedAt);
            await ApplyLockedAsync(inForce).ConfigureAwait(false);
            LogSet(logger, setBy, RulesText(inForce.Rules));
            return inForce;
        }
        finally
        {
            _changes.Release();
        }
    }

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
            var text = await ReadFileLockedAsync(cancellationToken).ConfigureAwait(false);
            if (text is null || text == _current.Text || text == _refusedFileText)
            {
                return false; // unreadable (logged), or no change in content
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
            var inForce = new PolicyInForce(policy, PolicyOrigin.File, text, PolicyRules.Count(text), path);
            await ApplyLockedAsync(inForce).ConfigureAwait(false);
            LogReloaded(logger, path, RulesText(inForce.Rules));
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
            return refused with { Policy = compiler.Compile(text), Rules = PolicyRules.Count(text) };
        }
        catch (Exception e) when (e is PolicyException || !IsFatal(e))
        {
            LogRefusedAtStart(logger, refused.Describe(), e.Message);
            return refused;
        }
    }

    /// <summary>The file's text, or null (logged) when it cannot be read or is too large.</summary>
    private async Task<string?> ReadFileLockedAsync(CancellationToken cancellationToken)
    {
        var path = PolicyFile!;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxPolicyBytes)
            {
                LogFileUnusable(logger, path, $"it holds {length} bytes, more than the {MaxPolicyBytes} a policy may have");
                return null;
            }

            var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            LogFileUnusable(logger, path, e is DecoderFallbackException ? "it is not UTF-8 text" : e.Message);
            return null;
        }
    }

    private async Task ApplyLockedAsync(PolicyInForce inForce)
    {
        _current = inForce;
        service.Store.AccessPolicy = inForce.Policy;
        service.Mesh.SetPolicy(inForce.Policy);
        if (inForce.Policy.AllowsAll)
        {
            return; // approvals are never withdrawn, and allow-all approves nothing new
        }

        foreach (var node in await service.Store.ReapplyAutoApprovalsAsync().ConfigureAwait(false))
        {
            await service.PublishAsync(node.Id).ConfigureAwait(false);
        }
    }

    private static string RulesText(int? rules) => rules?.ToString(CultureInfo.InvariantCulture) ?? "an unknown number of";

    private static bool IsFatal(Exception e) => e is OutOfMemoryException or OperationCanceledException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "no access policy: every node can reach every other (set one with `trellis policy set FILE`, or policy-file in the configuration)")]
    private static partial void LogNoPolicy(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "access policy in force: {Rules} rules, from {Source}")]
    private static partial void LogInForce(ILogger logger, string rules, string source);

    [LoggerMessage(Level = LogLevel.Error, Message = "the access policy from {Source} was refused ({Reason}); until it is fixed no node can reach another")]
    private static partial void LogRefusedAtStart(ILogger logger, string source, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "access policy set by {Caller}: {Rules} rules")]
    private static partial void LogSet(ILogger logger, string caller, string rules);

    [LoggerMessage(Level = LogLevel.Warning, Message = "access policy removed by {Caller}: every node can reach every other")]
    private static partial void LogRemoved(ILogger logger, string caller);

    [LoggerMessage(Level = LogLevel.Information, Message = "access policy reloaded from {Path}: {Rules} rules")]
    private static partial void LogReloaded(ILogger logger, string path, string rules);

    [LoggerMessage(Level = LogLevel.Error, Message = "the changed policy file {Path} was refused ({Reason}); the previous policy stays in force")]
    private static partial void LogReloadRefused(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot use the policy file {Path}: {Reason}; the previous policy stays in force")]
    private static partial void LogFileUnusable(ILogger logger, string path, string reason);
}
