using System.Collections;

namespace Harness.Agent.Execution;

/// <summary>
/// The log scope of one device task: <c>run_id</c>, <c>node_id</c>, <c>device_id</c> and
/// <c>attempt</c> as properties in JSON logs, and as <c>run_id=… node_id=… device_id=…</c> in text logs.
/// </summary>
public sealed class TaskLogScope(Guid runId, string nodeId, string deviceId, int attempt) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _values =
    [
        new("run_id", runId),
        new("node_id", nodeId),
        new("device_id", deviceId),
        new("attempt", attempt),
    ];

    public int Count => _values.Length;

    public KeyValuePair<string, object?> this[int index] => _values[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"run_id={_values[0].Value} node_id={_values[1].Value} device_id={_values[2].Value} attempt={_values[3].Value}";
}
