namespace Harness.Runtimes.Devices.Simulator;

/// <summary>One command a simulated device received, and how it ended (<c>ok</c>, <c>cancelled</c> or an error kind).</summary>
public sealed record CommandLogEntry(string Serial, string Command, DateTimeOffset Start, DateTimeOffset End, string Outcome);
