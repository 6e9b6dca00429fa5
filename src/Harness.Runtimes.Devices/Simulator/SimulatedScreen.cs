namespace Harness.Runtimes.Devices.Simulator;

/// <summary>What a simulated device shows: the foreground app, the last URL opened, the text typed since home.</summary>
public sealed record SimulatedScreen(string Foreground, string? Url, string Typed, int Version);
