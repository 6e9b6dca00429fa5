namespace Harness.Contracts;

public sealed record HealthResponse(string Status);

public sealed record ReadinessResponse(string Status, string Database, string? Error = null);
