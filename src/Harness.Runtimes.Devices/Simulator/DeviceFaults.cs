namespace Harness.Runtimes.Devices.Simulator;

/// <summary>What is wrong with one simulated device. Faults combine; <see cref="None"/> is a healthy device.</summary>
public sealed record DeviceFaults
{
    public static DeviceFaults None { get; } = new();

    /// <summary>Listed offline; every command fails as unavailable.</summary>
    public bool Offline { get; init; }

    /// <summary>Listed ready, but commands never answer until the caller gives up.</summary>
    public bool Unresponsive { get; init; }

    /// <summary>Every command waits this long before it runs (zero: not slow).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Commands answer with an error (the step fails).</summary>
    public bool Failing { get; init; }

    /// <summary>Goes offline after this many commands, for <see cref="CrashDowntime"/>; null: never crashes.</summary>
    public int? CrashAfterCommands { get; init; }

    public TimeSpan CrashDowntime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Both sets of faults at once; the other's crash settings win when it has them.</summary>
    public DeviceFaults Combine(DeviceFaults other) => new()
    {
        Offline = Offline || other.Offline,
        Unresponsive = Unresponsive || other.Unresponsive,
        Latency = other.Latency > Latency ? other.Latency : Latency,
        Failing = Failing || other.Failing,
        CrashAfterCommands = other.CrashAfterCommands ?? CrashAfterCommands,
        CrashDowntime = other.CrashAfterCommands is null ? CrashDowntime : other.CrashDowntime,
    };
}
