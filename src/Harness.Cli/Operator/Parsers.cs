using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Harness.Cli.Operator;

/// <summary>
/// Parsers that say what was expected in the operator's words (<c>--seed 'many': not a whole number</c>)
/// instead of naming .NET types.
/// </summary>
internal static class Parsers
{
    public static Argument<Guid> IdArgument(string name, string description) =>
        new(name) { Description = description, CustomParser = r => ParseGuid(r, $"{name} '{Token(r)}': not an id (expected a GUID such as 3f2b1c4d-…).") ?? default };

    public static Option<Guid?> IdOption(string name, string description) =>
        new(name) { Description = description, HelpName = "id", CustomParser = r => ParseGuid(r, $"{name} '{Token(r)}': not an id (expected a GUID).") };

    public static Option<int?> IntOption(string name, string description) =>
        new(name) { Description = description, HelpName = "n", CustomParser = r => (int?)ParseLong(r, name, int.MinValue, int.MaxValue) };

    public static Option<long?> LongOption(string name, string description) =>
        new(name) { Description = description, HelpName = "n", CustomParser = r => ParseLong(r, name, long.MinValue, long.MaxValue) };

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";

    private static Guid? ParseGuid(ArgumentResult result, string error)
    {
        if (Guid.TryParse(Token(result), out var id))
        {
            return id;
        }
        result.AddError(error);
        return null;
    }

    private static long? ParseLong(ArgumentResult result, string name, long min, long max)
    {
        if (long.TryParse(Token(result), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        result.AddError($"{name} '{Token(result)}': not a whole number.");
        return null;
    }
}
