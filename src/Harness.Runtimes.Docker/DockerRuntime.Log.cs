using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Docker;

internal static partial class DockerRuntimeLog
{
    [LoggerMessage(1, LogLevel.Information, "Started instance {Container} of workspace {WorkspaceId} from {Image}; upstream {Upstream}")]
    public static partial void InstanceStarted(ILogger logger, string workspaceId, string container, string image, string? upstream);

    [LoggerMessage(2, LogLevel.Debug, "Instance {Container} of workspace {WorkspaceId} already runs {Image}")]
    public static partial void InstanceReused(ILogger logger, string workspaceId, string container, string image);

    [LoggerMessage(3, LogLevel.Information, "Replacing instance {Container} of workspace {WorkspaceId} (was {State}, image {OldImage})")]
    public static partial void InstanceReplaced(ILogger logger, string workspaceId, string container, string state, string? oldImage);

    [LoggerMessage(4, LogLevel.Information, "Deleted instance {Container} of workspace {WorkspaceId}")]
    public static partial void InstanceDeleted(ILogger logger, string workspaceId, string container);

    [LoggerMessage(5, LogLevel.Information, "Created volume {Volume} of workspace {WorkspaceId}")]
    public static partial void VolumeCreated(ILogger logger, string workspaceId, string volume);

    [LoggerMessage(6, LogLevel.Information, "Deleted volume {Volume} of workspace {WorkspaceId}")]
    public static partial void VolumeDeleted(ILogger logger, string workspaceId, string volume);

    [LoggerMessage(7, LogLevel.Information, "Archived volume of workspace {WorkspaceId}: {Entries} entries")]
    public static partial void VolumeArchived(ILogger logger, string workspaceId, int entries);

    [LoggerMessage(8, LogLevel.Information, "Restored volume of workspace {WorkspaceId}: {Entries} entries")]
    public static partial void VolumeRestored(ILogger logger, string workspaceId, int entries);

    [LoggerMessage(9, LogLevel.Information, "Imported the volume helper image {Image}")]
    public static partial void HelperImageImported(ILogger logger, string image);

    [LoggerMessage(10, LogLevel.Warning, "Could not remove helper container {Container}; a later volume delete removes it")]
    public static partial void HelperNotRemoved(ILogger logger, string container, Exception exception);

    [LoggerMessage(11, LogLevel.Information, "Pulling image {Image}")]
    public static partial void PullingImage(ILogger logger, string image);

    [LoggerMessage(12, LogLevel.Warning, "Instance {Container} of workspace {WorkspaceId} runs but does not accept connections on {Upstream} after {TimeoutMs} ms")]
    public static partial void InstanceNotReady(ILogger logger, string workspaceId, string container, string upstream, int timeoutMs);

    [LoggerMessage(13, LogLevel.Information, "Removed leftover helper container {Container} of workspace {WorkspaceId}")]
    public static partial void LeftoverHelperRemoved(ILogger logger, string workspaceId, string container);
}
