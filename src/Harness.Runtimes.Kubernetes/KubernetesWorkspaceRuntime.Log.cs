using Harness.Contracts.Runtime;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Kubernetes;

public sealed partial class KubernetesWorkspaceRuntime
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Kubernetes runtime uses API server {Host}, namespace {Namespace}, agent label {AgentName}")]
        public static partial void Connecting(ILogger logger, string host, string @namespace, string agentName);

        [LoggerMessage(2, LogLevel.Information, "Created pod for workspace {WorkspaceId} from image {Image} in namespace {Namespace}")]
        public static partial void PodCreated(ILogger logger, string workspaceId, string image, string @namespace);

        [LoggerMessage(3, LogLevel.Information, "Deleted pod of workspace {WorkspaceId} in namespace {Namespace}")]
        public static partial void PodDeleted(ILogger logger, string workspaceId, string @namespace);

        [LoggerMessage(4, LogLevel.Information, "Replacing the {State} instance of workspace {WorkspaceId} (image {Image})")]
        public static partial void ReplacingInstance(ILogger logger, string workspaceId, InstanceState state, string? image);

        [LoggerMessage(5, LogLevel.Warning, "Image {Image} of workspace {WorkspaceId} cannot be pulled; the pod is removed")]
        public static partial void ImageNotFound(ILogger logger, string workspaceId, string image);

        [LoggerMessage(6, LogLevel.Information, "Created PVC for workspace {WorkspaceId} in namespace {Namespace} ({Size})")]
        public static partial void ClaimCreated(ILogger logger, string workspaceId, string @namespace, string size);

        [LoggerMessage(7, LogLevel.Information, "Deleted PVC of workspace {WorkspaceId} in namespace {Namespace}")]
        public static partial void ClaimDeleted(ILogger logger, string workspaceId, string @namespace);

        [LoggerMessage(8, LogLevel.Information, "Created job {Job} for workspace {WorkspaceId} in namespace {Namespace}")]
        public static partial void JobCreated(ILogger logger, string job, string workspaceId, string @namespace);

        [LoggerMessage(9, LogLevel.Information, "Job {Job} of workspace {WorkspaceId} completed in {ElapsedMs:0} ms")]
        public static partial void JobSucceeded(ILogger logger, string job, string workspaceId, double elapsedMs);

        [LoggerMessage(10, LogLevel.Warning, "Job {Job} of workspace {WorkspaceId} failed: {Reason} {Message}")]
        public static partial void JobFailed(ILogger logger, string job, string workspaceId, string? reason, string? message);

        [LoggerMessage(11, LogLevel.Warning, "Job {Job} could not be deleted: {Message}")]
        public static partial void JobNotDeleted(ILogger logger, string job, string message);

        [LoggerMessage(12, LogLevel.Warning, "Archive file {Path} could not be deleted: {Message}")]
        public static partial void ArchiveFileNotDeleted(ILogger logger, string path, string message);

        [LoggerMessage(13, LogLevel.Debug, "Kubernetes API call '{What}' failed ({Kind}): {Message}")]
        public static partial void ApiCallFailed(ILogger logger, string what, RuntimeErrorKind kind, string message);
    }
}
