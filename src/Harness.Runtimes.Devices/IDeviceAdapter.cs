using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices;

/// <summary>
/// How the agent drives Android devices: the vendor WebSocket, adb, or the simulator. Every
/// method addresses a device by its runtime handle (the serial the backend knows it by).
/// Failures are <see cref="DeviceException"/>s whose <see cref="DeviceException.Kind"/> tells
/// the scheduler whether to wait for the device (unavailable) or fail the step (failed).
/// Implementations are thread-safe: the scheduler drives many devices at once.
/// </summary>
public interface IDeviceAdapter : IAsyncDisposable
{
    /// <summary><c>vendor-ws</c>, <c>adb</c> or <c>simulator</c>.</summary>
    string Name { get; }

    /// <summary>Every device the backend knows, online or not.</summary>
    Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Whether the backend itself answers (node preflight, gate 3: vendor_ws_ok).</summary>
    Task<bool> CheckConnectionAsync(CancellationToken cancellationToken);

    /// <summary>A functional probe: returns when the device answers; throws <see cref="DeviceException"/> otherwise.</summary>
    Task PingAsync(string handle, CancellationToken cancellationToken);

    /// <summary>Runs <c>adb shell</c>-style command text; returns its output.</summary>
    Task<string> ShellAsync(string handle, string command, CancellationToken cancellationToken);

    Task TapAsync(string handle, int x, int y, CancellationToken cancellationToken);

    Task SwipeAsync(string handle, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken);

    Task InputTextAsync(string handle, string text, CancellationToken cancellationToken);

    /// <summary>An Android key code name (<c>KEYCODE_HOME</c>, <c>HOME</c>) or number.</summary>
    Task KeyEventAsync(string handle, string key, CancellationToken cancellationToken);

    Task LaunchAppAsync(string handle, string package, string? activity, CancellationToken cancellationToken);

    Task OpenUrlAsync(string handle, string url, CancellationToken cancellationToken);

    /// <summary>A PNG of the screen.</summary>
    Task<byte[]> ScreenshotAsync(string handle, CancellationToken cancellationToken);

    Task RebootAsync(string handle, CancellationToken cancellationToken);

    /// <summary>Starts an emulator that is not running (no-op for a physical device or a running emulator).</summary>
    Task EmulatorStartAsync(string handle, CancellationToken cancellationToken);

    Task EmulatorRestartAsync(string handle, CancellationToken cancellationToken);
}

/// <summary>One device as a backend lists it.</summary>
/// <param name="DeviceId">onlySerial: the immutable key the server stores.</param>
/// <param name="Handle">The serial the backend addresses it by (may differ, e.g. <c>emulator-5554</c>, <c>host:port</c>).</param>
public sealed record DeviceInfo(
    string DeviceId,
    string Handle,
    string? Model,
    DeviceState State,
    bool IsEmulator = false,
    string? Error = null);

public enum DeviceErrorKind
{
    /// <summary>Offline, disconnected or not answering: the scheduler waits the grace period for it.</summary>
    Unavailable,
    /// <summary>The device answered with an error: the step failed.</summary>
    Failed,
    /// <summary>No such device on this backend.</summary>
    NotFound,
    /// <summary>The backend (vendor service, adb server) is unreachable.</summary>
    BackendDown,
}

public sealed class DeviceException(DeviceErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public DeviceErrorKind Kind { get; } = kind;
}
