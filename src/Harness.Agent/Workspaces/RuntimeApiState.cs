using System.Security.Cryptography;
using System.Text;

namespace Harness.Agent.Workspaces;

/// <summary>
/// What the heartbeat and the Runtime Agent API share: the API's endpoint, which the heartbeat reports,
/// and the key the server presents on it, which the server derives for this agent and hands over in
/// every heartbeat response. Until the first heartbeat no key is accepted.
/// </summary>
public sealed class RuntimeApiState
{
    /// <summary>Set once the Runtime Agent API listens; null on an agent without a workspace runtime.</summary>
    public Uri? Endpoint { get; set; }

    private volatile byte[]? _key;

    public bool Known => _key is not null;

    public void Set(string? key)
    {
        if (!string.IsNullOrEmpty(key))
        {
            _key = Encoding.UTF8.GetBytes(key);
        }
    }

    /// <summary>Constant-time comparison of what a caller presented with the current key.</summary>
    public bool Matches(string? presented) =>
        _key is { } key && presented is not null && CryptographicOperations.FixedTimeEquals(key, Encoding.UTF8.GetBytes(presented));
}
