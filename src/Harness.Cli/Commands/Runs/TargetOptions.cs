using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using Harness.Cli.Operator;
using Harness.Contracts.Runs;

namespace Harness.Cli.Commands.Runs;

/// <summary>Which devices a run targets: --all (the default), --nodes, --devices, --index-range or --label; one kind at a time.</summary>
internal sealed partial class TargetOptions
{
    public Option<bool> All { get; } = new("--all") { Description = "Every device (the default)." };

    public Option<string?> Nodes { get; } = new("--nodes") { Description = "Devices on these nodes (farm PCs), comma-separated: PC-01,PC-02.", HelpName = "ids" };

    public Option<string?> Devices { get; } = new("--devices") { Description = "These devices (device_id), comma-separated.", HelpName = "ids" };

    public Option<string?> IndexRange { get; } = new("--index-range") { Description = "Devices whose index_no is in this inclusive range: 1-50.", HelpName = "from-to" };

    public Option<string[]> Labels { get; } = KeyValues.CreateOption("--label", "Devices carrying this label (repeatable; all must match).");

    public static TargetOptions AddTo(Command command)
    {
        var options = new TargetOptions();
        command.Options.Add(options.All);
        command.Options.Add(options.Nodes);
        command.Options.Add(options.Devices);
        command.Options.Add(options.IndexRange);
        command.Options.Add(options.Labels);
        options.IndexRange.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } range && ParseRange(range) is null)
            {
                r.AddError($"--index-range '{range}': expected FROM-TO with 1 <= FROM <= TO, e.g. 1-50.");
            }
        });
        foreach (var list in new[] { options.Nodes, options.Devices })
        {
            list.Validators.Add(r =>
            {
                if (Split(r.GetValueOrDefault<string?>()).Count == 0)
                {
                    r.AddError($"{list.Name}: give at least one id, comma-separated.");
                }
            });
        }
        command.Validators.Add(options.Validate);
        return options;
    }

    private void Validate(CommandResult result)
    {
        var given = new Option[] { All, Nodes, Devices, IndexRange, Labels }.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 1)
        {
            result.AddError($"choose one target, not {string.Join(" and ", given)}: --all, --nodes, --devices, --index-range or --label (repeatable).");
        }
    }

    public RunTarget ToTarget(ParseResult parse)
    {
        if (parse.GetValue(Nodes) is { } nodes)
        {
            return new RunTarget(NodeIds: Split(nodes));
        }
        if (parse.GetValue(Devices) is { } devices)
        {
            return new RunTarget(DeviceIds: Split(devices));
        }
        if (parse.GetValue(IndexRange) is { } range)
        {
            var (from, to) = ParseRange(range)!.Value;
            return new RunTarget(IndexRange: $"{from}-{to}");
        }
        if (KeyValues.ToDictionary(parse.GetValue(Labels)) is { } labels)
        {
            return new RunTarget(Labels: labels);
        }
        return new RunTarget(All: true);
    }

    public static (int From, int To)? ParseRange(string text)
    {
        var match = RangePattern().Match(text);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, out var from) || !int.TryParse(match.Groups[2].Value, out var to) || from < 1 || from > to)
        {
            return null;
        }
        return (from, to);
    }

    private static List<string> Split(string? list) =>
        list is null ? [] : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    [GeneratedRegex(@"^\s*(\d{1,9})\s*-\s*(\d{1,9})\s*$")]
    private static partial Regex RangePattern();
}
