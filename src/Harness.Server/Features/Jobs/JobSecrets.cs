using System.Security.Cryptography;
using System.Text.Json;
using Harness.Contracts;
using Harness.Server.Data;
using Harness.Server.Features.Workspaces;

namespace Harness.Server.Features.Jobs;

/// <summary>
/// Seals a job's secrets for the time between the request and the agent's claim (AES-256-GCM, the job id as
/// associated data so a sealed blob cannot be moved to another job). The row is cleared when the job ends.
/// </summary>
public sealed class JobSecrets(RuntimeKeys keys)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public async Task<string?> SealAsync(HarnessDbContext db, Guid jobId, IReadOnlyDictionary<string, string>? secrets, CancellationToken cancellationToken)
    {
        if (secrets is null || secrets.Count == 0)
        {
            return null;
        }
        var plain = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>(secrets), HarnessJsonContext.Default.DictionaryStringString);
        var key = await keys.JobSecretsKeyAsync(db, cancellationToken);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, NonceSize));
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(sealedBytes.AsSpan(0, NonceSize), plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), jobId.ToByteArray());
        CryptographicOperations.ZeroMemory(plain);
        return Convert.ToBase64String(sealedBytes);
    }

    public async Task<Dictionary<string, string>> OpenAsync(HarnessDbContext db, Guid jobId, string? sealedText, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sealedText))
        {
            return [];
        }
        var sealedBytes = Convert.FromBase64String(sealedText);
        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(await keys.JobSecretsKeyAsync(db, cancellationToken), TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plain, jobId.ToByteArray());
        try
        {
            return JsonSerializer.Deserialize(plain, HarnessJsonContext.Default.DictionaryStringString) ?? [];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
