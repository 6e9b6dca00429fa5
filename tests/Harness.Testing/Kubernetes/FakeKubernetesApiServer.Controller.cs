using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Harness.Testing.Kubernetes;

public sealed partial class FakeKubernetesApiServer
{
    private async Task ControllerLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TickInterval, cancellationToken);
            try
            {
                await StepAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Kept for the test to see; the loop goes on like a controller that logs and retries.
                ControllerError = e;
            }
        }
    }

    /// <summary>One round of scheduler, kubelet, PVC binder and protection, and job controller.</summary>
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        List<(string Namespace, JsonObject Job)> runnable = [];
        lock (_lock)
        {
            foreach (var ((resource, ns, name), value) in _objects.ToList())
            {
                switch (resource)
                {
                    case "pods":
                        StepPod(ns, name, value);
                        break;
                    case "persistentvolumeclaims":
                        StepClaim(ns, name, value);
                        break;
                    case "jobs" when !HoldJobs:
                        if (StepJob(ns, value))
                        {
                            runnable.Add((ns, value));
                        }
                        break;
                }
            }
        }
        // Jobs run outside the lock: the runtime polls them meanwhile.
        foreach (var (ns, job) in runnable)
        {
            var (exitCode, output) = await RunJobPodAsync(job, cancellationToken);
            lock (_lock)
            {
                FinishJob(job, exitCode, output);
            }
        }
    }

    private void StepPod(string ns, string name, JsonObject pod)
    {
        var spec = (JsonObject)pod["spec"]!;
        var status = (JsonObject)pod["status"]!;
        var metadata = (JsonObject)pod["metadata"]!;
        if (metadata["deletionTimestamp"] is not null)
        {
            if (!HoldTermination)
            {
                // The kubelet has stopped the containers: the pod object goes.
                _objects.Remove(("pods", ns, name));
            }
            return;
        }
        var container = (JsonObject)spec["containers"]![0]!;
        var image = container["image"]!.GetValue<string>();
        var containerName = container["name"]!.GetValue<string>();

        if (spec["nodeName"] is null)
        {
            var missing = Claims(spec).FirstOrDefault(c => !_objects.ContainsKey(("persistentvolumeclaims", ns, c)));
            if (missing is not null)
            {
                status["conditions"] = new JsonArray(Condition("PodScheduled", "False", "Unschedulable",
                    $"0/1 nodes are available: persistentvolumeclaim \"{missing}\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."));
                Touch(metadata);
                return;
            }
            spec["nodeName"] = NodeName;
            status["conditions"] = new JsonArray(Condition("PodScheduled", "True"));
            status["hostIP"] = "172.18.0.2";
            status["startTime"] = Now();
            status["containerStatuses"] = new JsonArray(ContainerStatus(containerName, image, new JsonObject
            {
                ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" },
            }, ready: false, restarts: 0));
            foreach (var claim in Claims(spec))
            {
                Bind(_objects[("persistentvolumeclaims", ns, claim)]);
            }
            Touch(metadata);
            return;
        }
        if (HoldPending || status["phase"]!.GetValue<string>() != "Pending" && !CrashingImages.ContainsKey(image))
        {
            return;
        }
        var waitingReason = status["containerStatuses"]?[0]?["state"]?["waiting"]?["reason"]?.GetValue<string>();
        if (!KnownImages.ContainsKey(image))
        {
            // The kubelet keeps trying: ErrImagePull first, then ImagePullBackOff.
            var reason = waitingReason == "ErrImagePull" ? "ImagePullBackOff" : "ErrImagePull";
            var message = reason == "ErrImagePull"
                ? $"failed to pull and unpack image \"docker.io/library/{image}\": failed to resolve reference \"docker.io/library/{image}\": pull access denied, repository does not exist or may require authorization"
                : $"Back-off pulling image \"{image}\"";
            if (waitingReason != "ImagePullBackOff")
            {
                status["containerStatuses"] = new JsonArray(ContainerStatus(containerName, image, new JsonObject
                {
                    ["waiting"] = new JsonObject { ["reason"] = reason, ["message"] = message },
                }, ready: false, restarts: 0));
                status["conditions"] = new JsonArray(Condition("PodScheduled", "True"), Condition("Ready", "False", "ContainersNotReady", $"containers with unready status: [{containerName}]"));
                Touch(metadata);
            }
            return;
        }
        status["podIP"] = $"10.244.0.{Math.Abs(name.GetHashCode(StringComparison.Ordinal)) % 200 + 2}";
        status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = status["podIP"]!.GetValue<string>() });
        status["phase"] = "Running";
        if (CrashingImages.ContainsKey(image))
        {
            if (waitingReason == "CrashLoopBackOff")
            {
                return;
            }
            status["containerStatuses"] = new JsonArray(ContainerStatus(containerName, image, new JsonObject
            {
                ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = $"back-off 10s restarting failed container={containerName} pod={name}" },
            }, ready: false, restarts: 1, lastState: new JsonObject
            {
                ["terminated"] = new JsonObject { ["exitCode"] = 1, ["reason"] = "Error", ["startedAt"] = Now(), ["finishedAt"] = Now() },
            }));
            status["conditions"] = new JsonArray(Condition("PodScheduled", "True"), Condition("Ready", "False", "ContainersNotReady", $"containers with unready status: [{containerName}]"));
        }
        else
        {
            status["containerStatuses"] = new JsonArray(ContainerStatus(containerName, image, new JsonObject
            {
                ["running"] = new JsonObject { ["startedAt"] = Now() },
            }, ready: true, restarts: 0));
            status["conditions"] = new JsonArray(Condition("PodReadyToStartContainers", "True"), Condition("Initialized", "True"),
                Condition("Ready", "True"), Condition("ContainersReady", "True"), Condition("PodScheduled", "True"));
        }
        Touch(metadata);
    }

    private void StepClaim(string ns, string name, JsonObject claim)
    {
        var metadata = (JsonObject)claim["metadata"]!;
        if (metadata["deletionTimestamp"] is null)
        {
            return;
        }
        var inUse = _objects.Any(o => o.Key.Namespace == ns
            && (o.Key.Resource == "pods" && Claims((JsonObject)o.Value["spec"]!).Contains(name)
                || o.Key.Resource == "jobs" && o.Value["status"]?["active"] is not null
                    && Claims((JsonObject)o.Value["spec"]!["template"]!["spec"]!).Contains(name)));
        if (!inUse)
        {
            // pvc-protection lets go; the Delete reclaim policy removes the data.
            _objects.Remove(("persistentvolumeclaims", ns, name));
            if (_claimDirectories.Remove(name, out var directory) && directory.StartsWith(_root, StringComparison.Ordinal))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Advances a job; true when its pod should run now.</summary>
    private bool StepJob(string ns, JsonObject job)
    {
        var status = (JsonObject)job["status"]!;
        if (status["conditions"] is not null || status["active"] is { } active && active.GetValue<int>() > 1)
        {
            return false;
        }
        var podSpec = (JsonObject)job["spec"]!["template"]!["spec"]!;
        if (Claims(podSpec).Any(c => !_objects.TryGetValue(("persistentvolumeclaims", ns, c), out var claim) || claim["metadata"]!["deletionTimestamp"] is not null))
        {
            // Its pod cannot be scheduled; a real job waits the same way, until activeDeadlineSeconds.
            status["startTime"] ??= Now();
            status["active"] = 1;
            return false;
        }
        if (status["active"] is null)
        {
            status["startTime"] = Now();
            status["active"] = 1;
            status["ready"] = 0;
            status["terminating"] = 0;
            status["uncountedTerminatedPods"] = new JsonObject();
            Touch((JsonObject)job["metadata"]!);
            return false;
        }
        foreach (var claim in Claims(podSpec))
        {
            Bind(_objects[("persistentvolumeclaims", ns, claim)]);
        }
        status["active"] = 2; // marks "running now" inside the fake; reset when finished
        return true;
    }

    private void FinishJob(JsonObject job, int exitCode, string output)
    {
        var status = (JsonObject)job["status"]!;
        status.Remove("active");
        status["ready"] = 0;
        status["terminating"] = 0;
        LastJobOutput = output;
        if (exitCode == 0)
        {
            status["succeeded"] = 1;
            status["completionTime"] = Now();
            status["conditions"] = new JsonArray(
                Condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                Condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"));
        }
        else
        {
            status["failed"] = 1;
            status["conditions"] = new JsonArray(
                Condition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                Condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"));
        }
        Touch((JsonObject)job["metadata"]!);
    }

    /// <summary>The last exception the controller loop hit (a bug in the fake; tests may assert it is null).</summary>
    public Exception? ControllerError { get; private set; }

    /// <summary>The output of the last job pod the fake ran (for a failing test's message).</summary>
    public string? LastJobOutput { get; private set; }

    /// <summary>
    /// Runs the job container's <c>sh -c</c> script here, each volumeMount's path replaced by the directory
    /// of its PVC. Read-only mounts are not enforced.
    /// </summary>
    private async Task<(int ExitCode, string Output)> RunJobPodAsync(JsonObject job, CancellationToken cancellationToken)
    {
        string script;
        lock (_lock)
        {
            var podSpec = (JsonObject)job["spec"]!["template"]!["spec"]!;
            var container = podSpec["containers"]![0]!;
            var command = (container["command"] as JsonArray ?? []).Concat(container["args"] as JsonArray ?? [])
                .Select(n => n!.GetValue<string>()).ToList();
            if (command is not ["sh", "-c", _])
            {
                return (127, $"the fake runs only [sh, -c, script] containers, not [{string.Join(", ", command)}]");
            }
            var volumes = (podSpec["volumes"] as JsonArray ?? []).ToDictionary(
                v => v!["name"]!.GetValue<string>(),
                v => v!["persistentVolumeClaim"]?["claimName"]?.GetValue<string>(),
                StringComparer.Ordinal);
            script = command[2];
            foreach (var mount in (container["volumeMounts"] as JsonArray ?? []).OrderByDescending(m => m!["mountPath"]!.GetValue<string>().Length))
            {
                var claim = volumes[mount!["name"]!.GetValue<string>()];
                var directory = claim is null ? null : _claimDirectories.GetValueOrDefault(claim);
                if (directory is null)
                {
                    return (1, $"no directory stands for claim {claim}");
                }
                script = script.Replace(mount["mountPath"]!.GetValue<string>(), directory, StringComparison.Ordinal);
            }
        }
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static IEnumerable<string> Claims(JsonObject podSpec) =>
        (podSpec["volumes"] as JsonArray ?? [])
            .Select(v => v?["persistentVolumeClaim"]?["claimName"]?.GetValue<string>())
            .OfType<string>();

    private void Bind(JsonObject claim)
    {
        if (claim["status"]?["phase"]?.GetValue<string>() == "Bound")
        {
            return;
        }
        claim["spec"]!["volumeName"] = $"pvc-{claim["metadata"]!["uid"]}";
        claim["status"] = new JsonObject
        {
            ["phase"] = "Bound",
            ["accessModes"] = claim["spec"]!["accessModes"]!.DeepClone(),
            ["capacity"] = new JsonObject { ["storage"] = claim["spec"]!["resources"]!["requests"]!["storage"]!.DeepClone() },
        };
        Touch((JsonObject)claim["metadata"]!);
    }

    private void Touch(JsonObject metadata) => metadata["resourceVersion"] = NextResourceVersion();

    private JsonObject Condition(string type, string status, string? reason = null, string? message = null)
    {
        var condition = new JsonObject { ["type"] = type, ["status"] = status, ["lastProbeTime"] = null, ["lastTransitionTime"] = Now() };
        if (reason is not null)
        {
            condition["reason"] = reason;
        }
        if (message is not null)
        {
            condition["message"] = message;
        }
        return condition;
    }

    private static JsonObject ContainerStatus(string name, string image, JsonObject state, bool ready, int restarts, JsonObject? lastState = null) => new()
    {
        ["name"] = name,
        ["state"] = state,
        ["lastState"] = lastState ?? new JsonObject(),
        ["ready"] = ready,
        ["restartCount"] = restarts,
        ["image"] = image,
        ["imageID"] = ready ? $"docker.io/library/{image}@sha256:{new string('0', 64)}" : "",
        ["started"] = ready,
    };
}
