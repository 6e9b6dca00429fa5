namespace Harness.Runtimes;

/// <summary>How a runtime call failed; the Runtime Agent API maps each kind to one HTTP status.</summary>
public enum RuntimeErrorKind
{
    /// <summary>404: no such volume (or instance, where one is required).</summary>
    NotFound,
    /// <summary>409: the resource is in use or in the wrong state (a volume with a running instance).</summary>
    Conflict,
    /// <summary>422: the image is not known to the backend and cannot be pulled.</summary>
    ImageNotFound,
    /// <summary>400: the request is not valid for this backend.</summary>
    Invalid,
    /// <summary>503: the backend (engine, API server) does not answer.</summary>
    Unavailable,
    /// <summary>500-class failure of the backend that is none of the above; the message says what.</summary>
    Failed,
}

public sealed class RuntimeException(RuntimeErrorKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public RuntimeErrorKind Kind { get; } = kind;

    public static RuntimeException VolumeNotFound(string workspaceId) =>
        new(RuntimeErrorKind.NotFound, $"workspace {workspaceId} has no volume");

    public static RuntimeException VolumeInUse(string workspaceId) =>
        new(RuntimeErrorKind.Conflict, $"the volume of workspace {workspaceId} is in use by its instance; delete the instance first");

    public static RuntimeException ImageMissing(string image) =>
        new(RuntimeErrorKind.ImageNotFound, $"image '{image}' is not available to this runtime");
}
