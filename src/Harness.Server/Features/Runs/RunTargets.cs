using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Runs;

/// <summary>Validates a run's target and finds the devices it names.</summary>
public static partial class RunTargets
{
    public const int MaxListed = 5000;

    public static void Validate(RunTarget? target, ValidationErrors errors)
    {
        if (target is null)
        {
            errors.Add("target", "required: {\"all\":true}, {\"node_ids\":[…]}, {\"device_ids\":[…]}, {\"index_range\":\"1-50\"} or {\"labels\":{…}}");
            return;
        }
        var given = new[] { target.All is not null, target.NodeIds is not null, target.DeviceIds is not null, target.IndexRange is not null, target.Labels is not null }.Count(b => b);
        if (given != 1)
        {
            errors.Add("target", "set exactly one of all, node_ids, device_ids, index_range, labels");
            return;
        }
        if (target.All is false)
        {
            errors.Add("target.all", "must be true when given");
        }
        ValidateList(target.NodeIds, "target.node_ids", errors);
        ValidateList(target.DeviceIds, "target.device_ids", errors);
        if (target.IndexRange is { } range && !TryParseRange(range, out _, out _))
        {
            errors.Add("target.index_range", "use FROM-TO with 1 <= FROM <= TO, e.g. \"1-50\", or a single number");
        }
        if (target.Labels is { } labels)
        {
            if (labels.Count is 0 or > Limits.MaxLabels)
            {
                errors.Add("target.labels", $"give 1 to {Limits.MaxLabels} labels");
            }
            foreach (var (k, v) in labels)
            {
                errors.MaxLength($"target.labels.{k}", v, Limits.NameLength);
                if (k.Length is 0 or > Limits.NameLength)
                {
                    errors.Add("target.labels", $"label names must be 1 to {Limits.NameLength} characters");
                }
            }
        }
    }

    private static void ValidateList(IReadOnlyList<string?>? list, string field, ValidationErrors errors)
    {
        if (list is null)
        {
            return;
        }
        if (list.Count is 0 or > MaxListed)
        {
            errors.Add(field, $"give 1 to {MaxListed} entries");
            return;
        }
        for (var i = 0; i < list.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(list[i]))
            {
                errors.Add($"{field}[{i}]", "must not be empty");
            }
            else
            {
                errors.MaxLength($"{field}[{i}]", list[i], Limits.DeviceIdLength);
            }
        }
    }

    public static bool TryParseRange(string text, out int from, out int to)
    {
        from = to = 0;
        var m = Range().Match(text);
        if (!m.Success
            || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            return false;
        }
        to = from;
        if (m.Groups[2].Success && !int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out to))
        {
            return false;
        }
        return from >= 1 && to >= from;
    }

    /// <summary>The devices a valid target names, in index order; unknown names are errors.</summary>
    public static async Task<List<DeviceEntity>> ResolveAsync(HarnessDbContext db, RunTarget target, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var query = db.Devices.AsNoTracking();
        List<DeviceEntity> devices;
        if (target.NodeIds is { } nodes)
        {
            devices = await query.Where(d => nodes.Contains(d.NodeId)).ToListAsync(cancellationToken);
            var agents = await db.Agents.AsNoTracking().Where(a => nodes.Contains(a.Name)).Select(a => a.Name).ToListAsync(cancellationToken);
            for (var i = 0; i < nodes.Count; i++)
            {
                if (!agents.Contains(nodes[i]))
                {
                    errors.Add($"target.node_ids[{i}]", $"no node '{nodes[i]}'");
                }
            }
        }
        else if (target.DeviceIds is { } ids)
        {
            devices = await query.Where(d => ids.Contains(d.DeviceId)).ToListAsync(cancellationToken);
            var found = devices.Select(d => d.DeviceId).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < ids.Count; i++)
            {
                if (!found.Contains(ids[i]))
                {
                    errors.Add($"target.device_ids[{i}]", $"no device '{ids[i]}'");
                }
            }
        }
        else if (target.IndexRange is { } range && TryParseRange(range, out var from, out var to))
        {
            devices = await query.Where(d => d.IndexNo >= from && d.IndexNo <= to).ToListAsync(cancellationToken);
        }
        else if (target.Labels is { } labels)
        {
            devices = (await query.ToListAsync(cancellationToken)).Where(d => HasLabels(d, labels)).ToList();
        }
        else
        {
            devices = await query.ToListAsync(cancellationToken);
        }
        if (!errors.HasErrors && devices.Count == 0)
        {
            errors.Add("target", "matches no device; see GET /api/devices");
        }
        return devices.OrderBy(d => d.IndexNo == null).ThenBy(d => d.IndexNo).ThenBy(d => d.DeviceId, StringComparer.Ordinal).ToList();
    }

    private static bool HasLabels(DeviceEntity device, IReadOnlyDictionary<string, string> wanted)
    {
        var labels = JsonSerializer.Deserialize(device.Labels, RunJson.Default.DictionaryStringString) ?? [];
        if (device.Label is not null)
        {
            labels.TryAdd("label", device.Label);
        }
        labels.TryAdd("node_id", device.NodeId);
        if (device.Model is not null)
        {
            labels.TryAdd("model", device.Model);
        }
        return wanted.All(w => labels.TryGetValue(w.Key, out var v) && v == w.Value);
    }

    [GeneratedRegex(@"^\s*(\d{1,7})\s*(?:-\s*(\d{1,7})\s*)?$")]
    private static partial Regex Range();
}
