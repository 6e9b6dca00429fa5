using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Listener;

/// <summary>
/// The durable outbox under <c>{StateDir}/outbox</c>: one file per event (<c>events/</c>) or artifact
/// (<c>artifacts/</c>, body + metadata), named by a sequence number so they are sent in the order they
/// were written. Each file is written to a temporary name, flushed to disk and renamed into place,
/// so a crash leaves either the whole file or none. Undeliverable items move to <c>dead/</c>.
/// </summary>
public sealed partial class FileOutbox : IOutbox
{
    internal const string MetaContentType = "content_type";
    internal const string MetaUploadTimeoutMs = "upload_timeout_ms";
    private const string TempSuffix = ".tmp";
    private const string MetaSuffix = ".meta.json";
    private const string BodySuffix = ".bin";

    private readonly ILogger<FileOutbox> _logger;
    private readonly ConcurrentDictionary<string, byte> _pendingIds = new(StringComparer.Ordinal);
    private long _sequence;
    private int _pending;

    public FileOutbox(IOptions<AgentOptions> options, ILogger<FileOutbox> logger)
    {
        _logger = logger;
        Root = options.Value.OutboxDir;
        Directory.CreateDirectory(EventsDir);
        Directory.CreateDirectory(ArtifactsDir);
        Directory.CreateDirectory(DeadDir);
        Recover();
    }

    public string Root { get; }
    public string EventsDir => Path.Combine(Root, "events");
    public string ArtifactsDir => Path.Combine(Root, "artifacts");
    public string DeadDir => Path.Combine(Root, "dead");

    public int PendingCount => Volatile.Read(ref _pending);

    public bool IsPending(string eventId) => _pendingIds.ContainsKey(SafeId(eventId));

    /// <summary>Set whenever something is enqueued, so the sender wakes at once.</summary>
    public AsyncSignal Enqueued { get; } = new();

    public async Task EnqueueAsync(CallbackEvent callback, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(callback.EventId);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(callback, HarnessJsonContext.Default.CallbackEvent);
        var path = Path.Combine(EventsDir, $"{NextName(callback.EventId)}.json");
        await WriteDurableAsync(path, bytes, cancellationToken);
        Track(path);
        Enqueued.Set();
    }

    public async Task EnqueueArtifactAsync(OutboxArtifact artifact, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(artifact.EventId);
        var name = NextName(artifact.EventId);
        var meta = new Dictionary<string, string>(artifact.Query)
        {
            [MetaContentType] = artifact.ContentType,
            [MetaUploadTimeoutMs] = artifact.UploadTimeoutMs.ToString(CultureInfo.InvariantCulture),
        };
        // Body first, metadata last: an artifact exists only once its metadata does.
        await WriteDurableAsync(Path.Combine(ArtifactsDir, name + BodySuffix), artifact.Content, cancellationToken);
        await WriteDurableAsync(Path.Combine(ArtifactsDir, name + MetaSuffix),
            JsonSerializer.SerializeToUtf8Bytes(meta, HarnessJsonContext.Default.DictionaryStringString), cancellationToken);
        Track(name);
        Enqueued.Set();
    }

    public IReadOnlyList<(TaskRef Task, string EventId)> PendingTerminalReports()
    {
        var reports = new List<(TaskRef, string)>();
        foreach (var file in Directory.EnumerateFiles(EventsDir, "*.json"))
        {
            CallbackEvent? e;
            try
            {
                e = JsonSerializer.Deserialize(File.ReadAllBytes(file), HarnessJsonContext.Default.CallbackEvent);
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                continue; // Unreadable or just sent: the sender deals with it.
            }
            if (e is { Type: CallbackTypes.DeviceStatus, RunId: { } run, DeviceId: { } device, Attempt: { } attempt, Status: { } status, EventId: { } id }
                && DeviceRunStatus.IsTerminal(status))
            {
                reports.Add((new TaskRef(run, device, attempt), id));
            }
        }
        return reports;
    }

    /// <summary>The oldest pending event files, in order.</summary>
    internal IReadOnlyList<string> PeekEvents(int max) =>
        [.. Directory.EnumerateFiles(EventsDir, "*.json").Order(StringComparer.Ordinal).Take(max)];

    internal IReadOnlyList<string> PeekArtifacts() =>
        [.. Directory.EnumerateFiles(ArtifactsDir, "*" + MetaSuffix).Order(StringComparer.Ordinal)];

    internal static async Task<CallbackEvent?> ReadEventAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken), HarnessJsonContext.Default.CallbackEvent);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static async Task<Dictionary<string, string>?> ReadMetaAsync(string metaPath, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(metaPath, cancellationToken), HarnessJsonContext.Default.DictionaryStringString);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string BodyPathOf(string metaPath) => metaPath[..^MetaSuffix.Length] + BodySuffix;

    /// <summary>Delivered: forget it.</summary>
    internal void Complete(string path)
    {
        DeleteItem(path);
        Untrack(path);
    }

    /// <summary>The server refused it for good (400, 413, 422): keep it for an operator, never retry.</summary>
    internal void DeadLetter(string path, string reason)
    {
        foreach (var file in ItemFiles(path))
        {
            if (File.Exists(file))
            {
                File.Move(file, Path.Combine(DeadDir, Path.GetFileName(file)), overwrite: true);
            }
        }
        File.WriteAllText(Path.Combine(DeadDir, Path.GetFileName(path) + ".error.txt"), reason);
        Untrack(path);
        LogDeadLettered(_logger, Path.GetFileName(path), DeadDir, reason);
    }

    private static IEnumerable<string> ItemFiles(string path) =>
        path.EndsWith(MetaSuffix, StringComparison.Ordinal) ? [BodyPathOf(path), path] : [path];

    private static void DeleteItem(string path)
    {
        foreach (var file in ItemFiles(path))
        {
            File.Delete(file);
        }
    }

    private string NextName(string eventId) => $"{Interlocked.Increment(ref _sequence):D16}-{SafeId(eventId)}";

    /// <summary>The id goes into a file name: keep only what is safe there.</summary>
    private static string SafeId(string eventId) =>
        new([.. eventId.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').Take(64)]);

    /// <summary><c>{sequence:D16}-{id}.json</c> or <c>….meta.json</c> → id.</summary>
    private static string IdOf(string pathOrName)
    {
        var name = Path.GetFileName(pathOrName);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var stem = dot < 0 ? name : name[..dot];
        return stem.Length > 17 ? stem[17..] : stem;
    }

    private void Track(string pathOrName)
    {
        _pendingIds[IdOf(pathOrName)] = 0;
        Interlocked.Increment(ref _pending);
    }

    private void Untrack(string path)
    {
        _pendingIds.TryRemove(IdOf(path), out _);
        Interlocked.Decrement(ref _pending);
    }

    private static async Task WriteDurableAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        var temp = path + TempSuffix;
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
        {
            await stream.WriteAsync(bytes, cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: false);
    }

    /// <summary>After a crash: drop half-written files, continue the sequence, count what is pending.</summary>
    private void Recover()
    {
        foreach (var temp in Directory.EnumerateFiles(EventsDir, "*" + TempSuffix).Concat(Directory.EnumerateFiles(ArtifactsDir, "*" + TempSuffix)))
        {
            File.Delete(temp);
        }
        foreach (var body in Directory.EnumerateFiles(ArtifactsDir, "*" + BodySuffix))
        {
            if (!File.Exists(body[..^BodySuffix.Length] + MetaSuffix))
            {
                File.Delete(body);
            }
        }
        var names = Directory.EnumerateFiles(EventsDir, "*.json").Concat(PeekArtifacts()).Concat(Directory.EnumerateFiles(DeadDir))
            .Select(Path.GetFileName).ToList();
        _sequence = names.Select(n => long.TryParse(n.AsSpan(0, Math.Min(16, n!.Length)), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0)
            .DefaultIfEmpty(0).Max();
        foreach (var item in Directory.EnumerateFiles(EventsDir, "*.json").Concat(PeekArtifacts()))
        {
            Track(item);
        }
        if (_pending > 0)
        {
            LogRecovered(_logger, _pending, Root);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox item {Item} was refused by the server and moved to {DeadDir}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string item, string deadDir, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox {Root} holds {Pending} undelivered item(s) from before the restart; sending them")]
    private static partial void LogRecovered(ILogger logger, int pending, string root);
}
