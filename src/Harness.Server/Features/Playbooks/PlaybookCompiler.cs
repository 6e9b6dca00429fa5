using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Harness.Contracts.Workflows;

namespace Harness.Server.Features.Playbooks;

/// <summary>
/// Turns a playbook into the workflow one device runs: each command asset is kept with its
/// probability, decided by a random generator seeded from (run seed, device_id). The same seed
/// and device always give the same steps, so a run can be reproduced.
/// </summary>
public static class PlaybookCompiler
{
    public sealed record Asset(Guid Id, string Name, IReadOnlyList<WorkflowStep> Steps, IReadOnlyDictionary<string, string> Defaults);

    public static WorkflowDefinition Compile(string playbookName, IReadOnlyList<(Asset Asset, double Probability)> items, long seed, string deviceId)
    {
        var random = new Random(DeviceSeed(seed, deviceId));
        var steps = new List<WorkflowStep>();
        for (var i = 0; i < items.Count; i++)
        {
            var (asset, probability) = items[i];
            // Draw for every item, kept or not, so one item's probability never shifts another's draw.
            var draw = random.NextDouble();
            if (draw >= probability)
            {
                continue;
            }
            foreach (var step in asset.Steps)
            {
                var id = $"{i + 1:00}-{asset.Name}-{step.Id}";
                steps.Add(step with { Id = id.Length <= 64 ? id : id[..64] });
            }
        }
        return new WorkflowDefinition(playbookName, steps, Description: $"playbook '{playbookName}' compiled with seed {seed} for {deviceId}");
    }

    /// <summary>Variables the run does not set take the assets' defaults (first asset wins).</summary>
    public static IReadOnlyDictionary<string, string> Vars(IEnumerable<Asset> assets, IReadOnlyDictionary<string, string> runVars)
    {
        var vars = new Dictionary<string, string>(runVars, StringComparer.Ordinal);
        foreach (var asset in assets)
        {
            foreach (var (k, v) in asset.Defaults)
            {
                vars.TryAdd(k, v);
            }
        }
        return vars;
    }

    public static int DeviceSeed(long seed, string deviceId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{deviceId}"));
        return BinaryPrimitives.ReadInt32LittleEndian(hash);
    }
}
