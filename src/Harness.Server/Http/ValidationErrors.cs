namespace Harness.Server.Http;

/// <summary>Collects every problem with a request, keyed by JSON path, so one response lists them all.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool HasErrors => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
    }

    public void Required(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "required");
        }
        else
        {
            MaxLength(field, value, maxLength);
        }
    }

    public void MaxLength(string field, string? value, int maxLength)
    {
        if (value is not null && value.Length > maxLength)
        {
            Add(field, $"must be at most {maxLength} characters");
        }
    }

    public void Range(string field, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            Add(field, $"must be between {min} and {max}");
        }
    }

    /// <summary>Adds these errors to <paramref name="target"/>, each field prefixed (a nested document's errors).</summary>
    public void CopyTo(ValidationErrors target, string prefix)
    {
        foreach (var (field, messages) in _errors)
        {
            foreach (var message in messages)
            {
                target.Add(prefix + field, message);
            }
        }
    }

    /// <summary>Every problem as <c>field: message</c>, as the console lists them.</summary>
    public IEnumerable<string> Messages => _errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"));

    public ValidationProblem ToProblem() =>
        TypedResults.ValidationProblem(
            _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()),
            detail: string.Join("; ", _errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))),
            title: "The request is invalid");
}
