namespace Harness.Runtimes.Sandbox;

/// <summary>Replaces every secret value in a line of output with <c>***</c>, longest first so a secret that
/// contains another is hidden whole.</summary>
public sealed class SecretRedactor
{
    public const string Mask = "***";

    /// <summary>Shorter values would mask ordinary text; the API refuses them as secrets.</summary>
    public const int MinimumSecretLength = 4;

    private readonly string[] _values;

    public SecretRedactor(IEnumerable<string> secretValues)
    {
        _values = secretValues
            .Where(v => v.Length >= MinimumSecretLength)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(v => v.Length)
            .ToArray();
    }

    public static SecretRedactor None { get; } = new([]);

    public bool IsEmpty => _values.Length == 0;

    public string Redact(string text)
    {
        foreach (var value in _values)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                text = text.Replace(value, Mask, StringComparison.Ordinal);
            }
        }
        return text;
    }
}
