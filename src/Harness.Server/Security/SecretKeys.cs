using System.Security.Cryptography;
using System.Text;

namespace Harness.Server.Security;

/// <summary>
/// Keys and tokens look like <c>{prefix}_{id}.{secret}</c>. The id finds the row; only the
/// SHA-256 of the secret is stored, and it is compared in constant time. A fast hash is enough:
/// the secret has 256 bits of entropy, so there is nothing to brute-force, and the hot path
/// (every heartbeat) pays one SHA-256.
/// </summary>
public static class SecretKeys
{
    public const string AgentPrefix = "hak";
    public const string OperatorPrefix = "hop";

    public static GeneratedSecret Generate(string prefix)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return new GeneratedSecret(id, $"{prefix}_{id}.{secret}", Hash(secret));
    }

    public static bool TryParse(string presented, string prefix, out string id, out string secret)
    {
        id = secret = "";
        if (presented.Length > 256 || !presented.StartsWith(prefix + "_", StringComparison.Ordinal))
        {
            return false;
        }
        var dot = presented.IndexOf('.', prefix.Length + 1);
        if (dot < 0)
        {
            return false;
        }
        id = presented[(prefix.Length + 1)..dot];
        secret = presented[(dot + 1)..];
        return id.Length > 0 && secret.Length > 0;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Matches(byte[] storedHash, string secret) =>
        CryptographicOperations.FixedTimeEquals(storedHash, Hash(secret));

    /// <summary>Constant-time equality of two free-form secrets (HARNESS_ADMIN_TOKEN, the enrollment secret).</summary>
    public static bool SecretEquals(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(Hash(expected), Hash(presented));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed record GeneratedSecret(string Id, string Full, byte[] Hash);
