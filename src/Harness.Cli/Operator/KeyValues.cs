using System.CommandLine;
using System.CommandLine.Parsing;

namespace Harness.Cli.Operator;

/// <summary>Repeatable <c>--var k=v</c> / <c>--label k=v</c> options, validated at parse time.</summary>
internal static class KeyValues
{
    public static Option<string[]> CreateOption(string name, string description)
    {
        var option = new Option<string[]>(name)
        {
            Description = description,
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!TryParse(token.Value, out _, out _))
                {
                    result.AddError($"{name} '{token.Value}': expected key=value with a non-empty key.");
                }
            }
        });
        return option;
    }

    /// <summary>The pairs in order; a repeated key keeps its last value.</summary>
    public static Dictionary<string, string>? ToDictionary(string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (TryParse(value, out var key, out var v))
            {
                result[key] = v;
            }
        }
        return result;
    }

    public static bool TryParse(string text, out string key, out string value)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        key = eq > 0 ? text[..eq].Trim() : "";
        value = eq > 0 ? text[(eq + 1)..] : "";
        return key.Length > 0;
    }
}
