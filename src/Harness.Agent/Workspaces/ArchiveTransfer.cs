using System.Security.Cryptography;
using Harness.Agent.Listener;
using Harness.Client;
using Harness.Contracts.Runtime;
using Harness.Runtimes;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Workspaces;

/// <summary>
/// Archive and restore jobs: the runtime writes (or reads) the volume as tar.gz through a scratch file,
/// and the agent moves that file to (or from) the server with its own key, so every backend archives
/// into the same artifact store and a workspace can be restored on another agent.
/// </summary>
public sealed partial class ArchiveTransfer(
    IWorkspaceRuntime runtime,
    HarnessNodeClient server,
    AgentCredentials credentials,
    IOptions<AgentOptions> agent,
    IOptions<WorkspacesOptions> options,
    TimeProvider time,
    ILogger<ArchiveTransfer> logger)
{
    /// <summary>The agent's client for archive transfers: no per-request timeout, unlike heartbeats and callbacks.</summary>
    public const string HttpClientName = "harness-archives";

    private string ScratchDir => options.Value.ScratchDir ?? Path.Combine(agent.Value.StateDir, "archives");

    public async Task<ArchiveJobResult> ArchiveAsync(string workspaceId, string archiveId, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var file = ScratchFile(archiveId);
        try
        {
            await using (var output = File.Create(file))
            {
                await runtime.ArchiveVolumeAsync(workspaceId, output, cancellationToken);
            }
            var (bytes, sha256) = await MeasureAsync(file, cancellationToken);
            var key = await credentials.GetKeyAsync(cancellationToken);
            await using (var input = File.OpenRead(file))
            {
                await ServerCall(() => server.UploadArchiveAsync(archiveId, input, key, cancellationToken), "upload");
            }
            LogArchived(logger, workspaceId, archiveId, bytes);
            return new ArchiveJobResult(workspaceId, archiveId, ArchiveJobStatus.Succeeded, bytes, sha256, started, time.GetUtcNow());
        }
        finally
        {
            File.Delete(file);
        }
    }

    public async Task<ArchiveJobResult> RestoreAsync(string workspaceId, string archiveId, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var file = ScratchFile(archiveId);
        try
        {
            var key = await credentials.GetKeyAsync(cancellationToken);
            await using (var output = File.Create(file))
            {
                await ServerCall(() => server.DownloadArchiveAsync(archiveId, output, key, cancellationToken), "download");
            }
            var (bytes, sha256) = await MeasureAsync(file, cancellationToken);
            await using (var input = File.OpenRead(file))
            {
                await runtime.RestoreVolumeAsync(workspaceId, input, cancellationToken);
            }
            LogRestored(logger, workspaceId, archiveId, bytes);
            return new ArchiveJobResult(workspaceId, archiveId, ArchiveJobStatus.Succeeded, bytes, sha256, started, time.GetUtcNow());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private string ScratchFile(string archiveId)
    {
        Directory.CreateDirectory(ScratchDir);
        return Path.Combine(ScratchDir, $"{archiveId}.{Guid.NewGuid():N}.tar.gz");
    }

    private static async Task<(long Bytes, string Sha256)> MeasureAsync(string file, CancellationToken cancellationToken)
    {
        await using var input = File.OpenRead(file);
        var hash = await SHA256.HashDataAsync(input, cancellationToken);
        return (input.Length, Convert.ToHexStringLower(hash));
    }

    /// <summary>The server refusing or not answering is the job's failure, reported as such (502), not the backend's.</summary>
    private static async Task ServerCall(Func<Task> call, string what)
    {
        try
        {
            await call();
        }
        catch (HarnessApiException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Failed, $"the server refused the archive {what}: {(int)e.Status} {e.Message}", e);
        }
        catch (HttpRequestException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Failed, $"the archive {what} could not reach the server: {e.Message}", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "[workspace_id={WorkspaceId}] Archived the volume as {ArchiveId} ({Bytes} bytes)")]
    private static partial void LogArchived(ILogger logger, string workspaceId, string archiveId, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "[workspace_id={WorkspaceId}] Restored the volume from {ArchiveId} ({Bytes} bytes)")]
    private static partial void LogRestored(ILogger logger, string workspaceId, string archiveId, long bytes);
}
