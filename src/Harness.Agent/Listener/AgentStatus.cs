namespace Harness.Agent.Listener;

/// <summary>What the agent knows of its own standing with the server; read by hosts and tests.</summary>
public sealed class AgentStatus
{
    private int _currentLoad;

    public DateTimeOffset? LastHeartbeatAt { get; internal set; }
    public int ConsecutiveFailures { get; internal set; }
    public Guid? AgentId { get; internal set; }

    /// <summary>Tasks running now; runtimes raise and lower it, heartbeats report it.</summary>
    public int CurrentLoad => Volatile.Read(ref _currentLoad);

    public void TaskStarted() => Interlocked.Increment(ref _currentLoad);

    public void TaskEnded() => Interlocked.Decrement(ref _currentLoad);
}
