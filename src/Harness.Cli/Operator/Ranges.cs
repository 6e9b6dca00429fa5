using System.CommandLine;
using System.Globalization;

namespace Harness.Cli.Operator;

/// <summary>Range checks for integer options, reading the token itself so a non-number is left to the parser's own error.</summary>
internal static class Ranges
{
    public static void Between<T>(Option<T> option, long min, long max) =>
        option.Validators.Add(r =>
        {
            if (r.Tokens is [var token] && long.TryParse(token.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && (value < min || value > max))
            {
                r.AddError(max == int.MaxValue
                    ? $"{option.Name} must be {min} or more (got {value})."
                    : $"{option.Name} must be between {min} and {max} (got {value}).");
            }
        });

    public static void AtLeast<T>(Option<T> option, long min) => Between(option, min, int.MaxValue);
}
