using Microsoft.Extensions.Hosting;

namespace Harness.Cli.Hosting;

/// <summary>
/// A host lifetime that does not listen for signals, for hosts whose shutdown order someone
/// else decides (<c>harness dev</c> stops the agent before the server).
/// </summary>
internal sealed class PassiveLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
