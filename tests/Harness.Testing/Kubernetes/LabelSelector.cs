using System.Text.Json.Nodes;

namespace Harness.Testing.Kubernetes;

/// <summary>
/// The equality-based label selectors of the API (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>, comma = and).
/// Set-based ones (<c>in</c>, <c>notin</c>) are refused, as the runtime does not use them.
/// </summary>
internal sealed class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _requirements = [];

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            if (term.Length == 0 || term.Contains(' ', StringComparison.Ordinal) || term.Contains('(', StringComparison.Ordinal))
            {
                throw new FormatException($"'{term}' is not an equality-based requirement");
            }
            if (term.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Split(term, "!=");
                selector._requirements.Add(labels => Value(labels, key) != value);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = Split(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                selector._requirements.Add(labels => Value(labels, key) == value);
            }
            else if (term.StartsWith('!'))
            {
                var key = term[1..];
                selector._requirements.Add(labels => Value(labels, key) is null);
            }
            else
            {
                selector._requirements.Add(labels => Value(labels, term) is not null);
            }
        }
        return selector;
    }

    public bool Matches(JsonObject? labels) => _requirements.All(r => r(labels));

    private static (string Key, string Value) Split(string term, string op)
    {
        var at = term.IndexOf(op, StringComparison.Ordinal);
        var key = term[..at];
        if (key.Length == 0)
        {
            throw new FormatException($"'{term}' has no key");
        }
        return (key, term[(at + op.Length)..]);
    }

    private static string? Value(JsonObject? labels, string key) => labels?[key]?.GetValue<string>();
}
