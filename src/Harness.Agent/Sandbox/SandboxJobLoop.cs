using System.Collections.Concurrent;
using Harness.Agent.Listener;
using Harness.Client;
using Harness.Contracts.Agents;
using Harness.Contracts.Jobs;
using Harness.Runtimes;
using Harness.Runtimes.Sandbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Sandbox;

/// <summary>
/// The sandbox runtime's listener: long-polls <c>POST /api/nodes/jobs/claim</c> for up to its free slots, runs
/// each job through <see cref="SandboxRunner"/>, streams output, uploads artifacts and reports the end. Every
/// claim lists the running jobs, so the server renews their leases and answers with those to cancel.
/// </summary>
public sealed partial class SandboxJobLoop(
    SandboxBackendSelector selector,
    IOptions<SandboxOptions> sandboxOptions,
    IOptions<AgentOptions> agentOptions,
    AgentCredentials credentials,
    AgentStatus status,
    HarnessNodeClient client,
    Backoff backoff,
    IServiceProvider services,
    TimeProvider time,
    ILoggerFactory loggers,
    ILogger<SandboxJobLoop> logger) : BackgroundService
{
    public static readonly TimeSpan ClaimWait = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan FullWait = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, RunningJob> _running = new();
    private SandboxRunner? _runner;

    /// <summary>The backend in use, once started; null when the sandbox runtime is unavailable on this host.</summary>
    public ISandboxBackend? Backend => _runner?.Backend;

    public IReadOnlyCollection<Guid> Running => [.. _running.Keys];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the heartbeat starts: an agent whose backend cannot run does not offer the sandbox runtime.
        var (backend, reason) = await selector.TrySelectAsync(cancellationToken);
        var runtimes = agentOptions.Value.Runtimes;
        if (backend is null)
        {
            runtimes.RemoveAll(r => string.Equals(r, RuntimeNames.Sandbox, StringComparison.OrdinalIgnoreCase));
            LogUnavailable(logger, sandboxOptions.Value.Backend, reason ?? "unknown");
            return;
        }
        if (!runtimes.Contains(RuntimeNames.Sandbox, StringComparer.OrdinalIgnoreCase))
        {
            runtimes.Add(RuntimeNames.Sandbox);
        }
        _runner = new SandboxRunner(backend, sandboxOptions.Value, time, loggers.CreateLogger<SandboxRunner>());
        LogReady(logger, backend.Name, sandboxOptions.Value.Capacity);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The server learns that this agent offers the sandbox runtime from its first heartbeat; claims wait for it.
        while (status.LastHeartbeatAt is null && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan? delay = null;
            try
            {
                var free = sandboxOptions.Value.Capacity - _running.Count;
                var key = await credentials.GetKeyAsync(stoppingToken);
                // A full agent still polls (for cancels and lease renewals), briefly, so a freed slot is filled soon.
                var wait = free > 0 ? ClaimWait : FullWait;
                var response = await client.ClaimJobsAsync(
                    new ClaimJobsRequest(Math.Max(0, free), (int)wait.TotalMilliseconds, [.. _running.Keys]), key, stoppingToken);
                failures = 0;
                var news = response.Jobs.Count;
                foreach (var id in response.Cancel)
                {
                    if (_running.TryGetValue(id, out var job) && !job.Cancel.IsCancellationRequested)
                    {
                        news++;
                        LogCancel(logger, id);
                        await job.Cancel.CancelAsync();
                    }
                }
                if (news == 0 && response.Cancel.Count > 0)
                {
                    // Only cancels already under way: the server repeats them until the jobs report their end.
                    delay = TimeSpan.FromMilliseconds(250);
                }
                foreach (var claimed in response.Jobs)
                {
                    var job = new RunningJob(claimed, CancellationTokenSource.CreateLinkedTokenSource(stoppingToken));
                    if (_running.TryAdd(claimed.JobId, job))
                    {
                        job.Task = Task.Run(() => RunJobAsync(job, stoppingToken), CancellationToken.None);
                    }
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                delay = backoff.Next(failures);
                LogClaimFailed(logger, failures, delay.Value.TotalSeconds, e.Message);
            }
            try
            {
                if (delay is { } d)
                {
                    await Task.Delay(d, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
        // Shutting down: every sandbox is killed by the linked tokens; wait for their reports.
        await Task.WhenAll(_running.Values.Select(j => j.Task ?? Task.CompletedTask));
    }

    private async Task RunJobAsync(RunningJob job, CancellationToken stoppingToken)
    {
        var claimed = job.Claimed;
        var runner = _runner!;
        var jobLogger = loggers.CreateLogger<JobOutput>();
        SandboxResult result;
        var output = new JobOutput(claimed.JobId, runner.Backend.Name, credentials.GetKeyAsync, client, time, jobLogger);
        try
        {
            using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(job.Cancel.Token, output.CancelRequested.Token);
            LogStarting(logger, claimed.JobId, claimed.Spec.Image, runner.Backend.Name);
            try
            {
                var sandboxJob = await ToSandboxJobAsync(claimed, stoppingToken);
                result = await runner.RunAsync(sandboxJob, output, cancelled.Token);
            }
            catch (SandboxSetupException e)
            {
                await output.WriteLineAsync(SandboxStream.System, "harness: " + e.Message, CancellationToken.None);
                result = new SandboxResult(SandboxJobStatus.Failed, SandboxReasons.Error, null, e.Message, []);
            }
            catch (SandboxException e)
            {
                result = new SandboxResult(SandboxJobStatus.Failed, SandboxReasons.Error, null, e.Message, []);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong, the job is reported: an unreported job would hold its slot and lease forever.
                LogJobCrashed(logger, claimed.JobId, e);
                result = new SandboxResult(job.Cancel.IsCancellationRequested || output.CancelRequested.IsCancellationRequested
                    ? SandboxJobStatus.Canceled : SandboxJobStatus.Failed, SandboxReasons.Error, null, "the agent failed to run the job: " + e.Message, []);
            }
            if (result.Status == SandboxJobStatus.Canceled && stoppingToken.IsCancellationRequested && !output.CancelRequested.IsCancellationRequested)
            {
                result = result with { Status = SandboxJobStatus.Failed, Reason = "agent_stopped", Message = "the agent shut down while the job ran" };
            }
        }
        finally
        {
            await output.DisposeAsync();
        }
        try
        {
            await UploadArtifactsAsync(claimed.JobId, result.Artifacts);
            await CompleteAsync(claimed.JobId, result);
            LogFinished(logger, claimed.JobId, result.Status.ToString(), result.Reason, result.ExitCode);
        }
        finally
        {
            runner.CleanUp(claimed.JobId);
            _running.TryRemove(claimed.JobId, out _);
            job.Cancel.Dispose();
        }
    }

    private async Task<SandboxJob> ToSandboxJobAsync(ClaimedJob claimed, CancellationToken cancellationToken)
    {
        var spec = claimed.Spec;
        SandboxMount? workspace = null;
        if (claimed.WorkspaceId is { } workspaceId)
        {
            var source = services.GetService<IWorkspaceRuntime>() as IWorkspaceVolumeSource
                ?? throw new SandboxSetupException($"workspace {workspaceId}: this agent's workspace runtime cannot lend its volumes to sandbox jobs");
            var mount = await source.GetVolumeMountAsync(workspaceId, cancellationToken)
                ?? throw new SandboxSetupException($"workspace {workspaceId}: its volume is not on this agent");
            workspace = new SandboxMount(mount.HostPath, mount.DockerVolume);
        }
        return new SandboxJob
        {
            Id = claimed.JobId,
            Image = spec.Image,
            Command = spec.Command,
            Environment = spec.Env,
            Secrets = claimed.Secrets,
            Network = spec.Network == JobNetworks.Egress ? SandboxNetwork.Egress : SandboxNetwork.None,
            Timeout = TimeSpan.FromSeconds(spec.TimeoutS),
            Cpus = spec.Cpu,
            MemoryMb = spec.MemoryMb,
            Pids = spec.Pids,
            Workspace = workspace,
            ForwardSshAgent = spec.SshAgent,
            Artifacts = spec.Artifacts,
        };
    }

    private async Task UploadArtifactsAsync(Guid jobId, IReadOnlyList<SandboxArtifact> artifacts)
    {
        foreach (var artifact in artifacts)
        {
            try
            {
                var key = await credentials.GetKeyAsync(CancellationToken.None);
                await using var content = File.OpenRead(artifact.HostPath);
                await client.UploadJobArtifactAsync(jobId, artifact.Name, content, key, CancellationToken.None);
            }
            catch (Exception e) when (e is HttpRequestException or HarnessApiException or IOException or TaskCanceledException)
            {
                LogArtifactFailed(logger, jobId, artifact.Name, e.Message);
            }
        }
    }

    private async Task CompleteAsync(Guid jobId, SandboxResult result)
    {
        var status = result.Status switch
        {
            SandboxJobStatus.Succeeded => JobStatusNames.Succeeded,
            SandboxJobStatus.TimedOut => JobStatusNames.TimedOut,
            SandboxJobStatus.Canceled => JobStatusNames.Canceled,
            _ => JobStatusNames.Failed,
        };
        var request = new CompleteJobRequest(status, result.Reason, result.ExitCode, result.Message, FinishedAt: time.GetUtcNow());
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var key = await credentials.GetKeyAsync(CancellationToken.None);
                await client.CompleteJobAsync(jobId, request, key, CancellationToken.None);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or HarnessApiException or TaskCanceledException && attempt < 20)
            {
                LogCompleteFailed(logger, jobId, attempt, e.Message);
                await Task.Delay(backoff.Next(attempt), time);
            }
        }
    }

    private sealed class RunningJob(ClaimedJob claimed, CancellationTokenSource cancel)
    {
        public ClaimedJob Claimed { get; } = claimed;
        public CancellationTokenSource Cancel { get; } = cancel;
        public Task? Task { get; set; }
    }

    private sealed class SandboxSetupException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox runtime (Agent:Sandbox:Backend={Backend}) is unavailable on this host: {Reason}. The agent does not offer it.")]
    private static partial void LogUnavailable(ILogger logger, string backend, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox runtime ready: backend {Backend}, {Capacity} job(s) at once")]
    private static partial void LogReady(ILogger logger, string backend, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming sandbox jobs failed {Failures} time(s) in a row; retrying in {DelaySec:0.0}s: {Reason}")]
    private static partial void LogClaimFailed(ILogger logger, int failures, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId}: starting {Image} on {Backend}")]
    private static partial void LogStarting(ILogger logger, Guid jobId, string image, string backend);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox job {JobId}: running it failed unexpectedly")]
    private static partial void LogJobCrashed(ILogger logger, Guid jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId}: the server asks to cancel it")]
    private static partial void LogCancel(ILogger logger, Guid jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox job {JobId} ended {Status} ({Reason}, exit code {ExitCode})")]
    private static partial void LogFinished(ILogger logger, Guid jobId, string status, string reason, int? exitCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: uploading artifact {Name} failed: {Reason}")]
    private static partial void LogArtifactFailed(ILogger logger, Guid jobId, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: reporting its end failed (attempt {Attempt}): {Reason}")]
    private static partial void LogCompleteFailed(ILogger logger, Guid jobId, int attempt, string reason);
}
