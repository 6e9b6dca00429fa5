using Harness.Contracts.Dispatch;

namespace Harness.Agent.Listener;

/// <summary>
/// Where everything the agent tells the server goes first (DESIGN.md §4): once
/// <see cref="EnqueueAsync"/> returns, the event survives an agent restart and is sent later.
/// </summary>
public interface IOutbox
{
    /// <summary>Stores <paramref name="callback"/> (which must carry its event_id) durably.</summary>
    Task EnqueueAsync(CallbackEvent callback, CancellationToken cancellationToken);

    /// <summary>Stores an artifact durably; it is uploaded with bounded parallelism and retried until accepted.</summary>
    Task EnqueueArtifactAsync(OutboxArtifact artifact, CancellationToken cancellationToken);

    /// <summary>Whether the event or artifact with this id is still waiting to be delivered.</summary>
    bool IsPending(string eventId);

    /// <summary>Tasks whose terminal <c>device.status</c> is still waiting to be delivered, with that event's id.</summary>
    IReadOnlyList<(TaskRef Task, string EventId)> PendingTerminalReports();

    /// <summary>Events and artifacts not delivered yet.</summary>
    int PendingCount { get; }
}

/// <summary>An artifact for <c>POST /api/nodes/artifacts</c>.</summary>
/// <param name="Query">The <see cref="ArtifactUpload"/> fields, event_id included.</param>
public sealed record OutboxArtifact(
    IReadOnlyDictionary<string, string> Query,
    string ContentType,
    byte[] Content,
    int UploadTimeoutMs)
{
    public string EventId => Query.TryGetValue(ArtifactUpload.EventId, out var id) ? id : "";
}
