using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Workspaces;

/// <summary>
/// The keys the server presents on agents' Runtime Agent API: per agent,
/// <c>base64url(HMAC-SHA256(runtime_secret, agent_id))</c>. The secret is Harness:Runtime:KeySecret
/// (HARNESS_RUNTIME_KEY_SECRET) or, when unset, one generated once and kept in server_settings, so every
/// replica derives the same key. An agent learns its key from its heartbeat response.
/// </summary>
public sealed class RuntimeKeys(IOptions<HarnessServerOptions> options)
{
    public const string SecretSetting = "runtime_key_secret";

    private byte[]? _secret;

    /// <summary>The key for <paramref name="agentId"/>; reads (or creates) the shared secret on first use.</summary>
    public async Task<string> ForAgentAsync(HarnessDbContext db, Guid agentId, CancellationToken cancellationToken)
    {
        var secret = _secret ??= await LoadSecretAsync(db, cancellationToken);
        return Derive(secret, agentId);
    }

    /// <summary>The AES-256 key sandbox job secrets are sealed under; derived from the same shared secret, so every replica can open them.</summary>
    public async Task<byte[]> JobSecretsKeyAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var secret = _secret ??= await LoadSecretAsync(db, cancellationToken);
        return HMACSHA256.HashData(secret, "harness job secrets v1"u8);
    }

    public static string Derive(byte[] secret, Guid agentId)
    {
        var mac = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(agentId.ToString("D")));
        return Base64Url.EncodeToString(mac);
    }

    private async Task<byte[]> LoadSecretAsync(HarnessDbContext db, CancellationToken cancellationToken)
    {
        if (options.Value.Runtime.KeySecret is { Length: > 0 } configured)
        {
            return Encoding.UTF8.GetBytes(configured);
        }
        // Insert-if-absent, then read: replicas starting together all end up with the first one's secret.
        var generated = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO server_settings (\"key\", \"value\") VALUES ({SecretSetting}, {generated}) ON CONFLICT (\"key\") DO NOTHING",
            cancellationToken);
        var stored = await db.ServerSettings.AsNoTracking()
            .Where(s => s.Key == SecretSetting).Select(s => s.Value).SingleAsync(cancellationToken);
        return Encoding.UTF8.GetBytes(stored);
    }
}
