using System.Threading.Channels;
using Harness.Client;
using Harness.Contracts.Jobs;
using Harness.Runtimes.Sandbox;

namespace Harness.Agent.Sandbox;

/// <summary>
/// A job's output on its way to the server: lines are numbered as they come and sent in batches (at most every
/// <see cref="FlushInterval"/>), retried until the server has them, so a flaky link loses no line and
/// duplicates none. Each answer also says whether the job is to be canceled.
/// </summary>
internal sealed partial class JobOutput : ISandboxOutput, IAsyncDisposable
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);
    private const int MaxBatch = 1000;

    private readonly Channel<JobLogLine> _lines = Channel.CreateUnbounded<JobLogLine>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Guid _jobId;
    private readonly string _backend;
    private readonly Func<CancellationToken, Task<string>> _key;
    private readonly HarnessNodeClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _pump;
    private long _seq;
    private bool _startReported;
    private volatile bool _writerDone;

    public JobOutput(Guid jobId, string backend, Func<CancellationToken, Task<string>> key, HarnessNodeClient client, TimeProvider time, ILogger logger)
    {
        _jobId = jobId;
        _backend = backend;
        _key = key;
        _client = client;
        _time = time;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Fires when the server answers that the job is to be stopped.</summary>
    public CancellationTokenSource CancelRequested { get; } = new();

    public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken)
    {
        var name = stream switch
        {
            SandboxStream.Stderr => JobLogStreams.Stderr,
            SandboxStream.System => JobLogStreams.System,
            _ => JobLogStreams.Stdout,
        };
        var seq = Interlocked.Increment(ref _seq) - 1;
        _lines.Writer.TryWrite(new JobLogLine(seq, name, line, _time.GetUtcNow()));
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends every line written so far; returns when the server has them all (or the agent is stopping).</summary>
    public async ValueTask DisposeAsync()
    {
        _writerDone = true;
        _lines.Writer.TryComplete();
        await _pump;
        CancelRequested.Dispose();
    }

    private async Task PumpAsync()
    {
        var batch = new List<JobLogLine>();
        var reader = _lines.Reader;
        var attempt = 0;
        while (true)
        {
            // The first request goes out at once, with or without output: it reports the start.
            if (batch.Count == 0 && _startReported && !await reader.WaitToReadAsync())
            {
                return; // written out and complete
            }
            while (batch.Count < MaxBatch && reader.TryRead(out var line))
            {
                batch.Add(line);
            }
            try
            {
                var key = await _key(CancellationToken.None);
                var answer = await _client.JobEventsAsync(
                    _jobId, new JobEventsRequest(Started: _startReported ? null : true, Backend: _backend, Logs: batch), key, CancellationToken.None);
                _startReported = true;
                batch.Clear();
                attempt = 0;
                if (answer.CancelRequested && !CancelRequested.IsCancellationRequested)
                {
                    await CancelRequested.CancelAsync();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or HarnessApiException or TaskCanceledException or IOException)
            {
                attempt++;
                LogSendFailed(_logger, _jobId, attempt, ex.Message);
                if (attempt >= 40 || ex is HarnessApiException { Status: >= System.Net.HttpStatusCode.BadRequest and < System.Net.HttpStatusCode.InternalServerError
                    and not System.Net.HttpStatusCode.RequestTimeout and not System.Net.HttpStatusCode.TooManyRequests })
                {
                    // Minutes of failures: the server's lease has run out by now and the job is lost there anyway.
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * attempt)), _time);
                continue;
            }
            if (!_writerDone)
            {
                await Task.Delay(FlushInterval, _time); // let lines gather into one request
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox job {JobId}: sending output failed (attempt {Attempt}): {Reason}")]
    private static partial void LogSendFailed(ILogger logger, Guid jobId, int attempt, string reason);
}
