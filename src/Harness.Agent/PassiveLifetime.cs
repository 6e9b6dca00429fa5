using Microsoft.Extensions.Hosting;

namespace Harness.Agent;

/// <summary>
/// A host lifetime that does not listen for signals, for hosts whose shutdown order someone
/// else decides (<c>harness dev</c> stops the agent before the server; the agent stops its Runtime Agent API).
/// </summary>
public sealed class PassiveLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
