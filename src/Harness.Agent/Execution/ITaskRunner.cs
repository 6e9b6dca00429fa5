using Harness.Contracts.Dispatch;

namespace Harness.Agent.Execution;

/// <summary>Runs one device task to its end and reports it (through the outbox).</summary>
public interface ITaskRunner
{
    /// <param name="cancel">The server cancelled the task: stop and report <c>cancelled</c>.</param>
    /// <param name="shutdown">The agent is stopping: stop and report nothing; the server's lease logic takes over.</param>
    /// <returns>The event_id of the terminal <c>device.status</c> it queued, or null when it stopped for shutdown and reported nothing.</returns>
    Task<string?> RunAsync(DeviceTask task, CancellationToken cancel, CancellationToken shutdown);
}
