using Harness.Contracts;
using Harness.Contracts.Agents;
using Harness.Contracts.Nodes;

namespace Harness.Client;

/// <summary>What an agent says to the server: enroll once, then heartbeat (and later pull and call back).</summary>
public sealed class HarnessNodeClient(HttpClient http)
{
    public Task<AgentCredentialResponse> EnrollAsync(EnrollRequest request, string enrollmentSecret, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesEnroll, request, enrollmentSecret,
            HarnessHttp.Json.EnrollRequest, HarnessHttp.Json.AgentCredentialResponse, cancellationToken);

    public Task<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, string apiKey, CancellationToken cancellationToken) =>
        HarnessHttp.SendAsync(http, HttpMethod.Post, Routes.NodesHeartbeat, request, apiKey,
            HarnessHttp.Json.HeartbeatRequest, HarnessHttp.Json.HeartbeatResponse, cancellationToken);
}
