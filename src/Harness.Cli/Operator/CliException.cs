namespace Harness.Cli.Operator;

/// <summary>A mistake the operator can fix; the message is printed as is and the command exits 1.</summary>
internal sealed class CliException(string message) : Exception(message);
