using Trellis.Node.Control;
using Trellis.Node.State;

namespace Trellis.Node.Daemon;

/// <summary>One control client with the preferences it was started for and the task feeding its maps to the engine.</summary>
internal sealed class ControlSession(ControlClient client, NodePrefs prefs)
{
    public ControlClient Client { get; } = client;

    /// <summary>Replaced when `up` changes only routes or accept-routes while running.</summary>
    public NodePrefs Prefs { get; set; } = prefs;

    /// <summary>The server (or its replicas' URLs) as the preferences keep it.</summary>
    public string ServerUrl { get; } = prefs.ServerUrl ?? client.Server.AbsoluteUri;

    public Task Pump { get; set; } = Task.CompletedTask;

    /// <summary>
    /// The first thing worth telling `up`: the first map applied (running), pending, a refusal, or the
    /// first failed attempt.
    /// </summary>
    public TaskCompletionSource<ControlStatus> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
