using System.Text;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Jobs;
using Harness.Server.Data;
using Harness.Server.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Jobs;

/// <summary>
/// <c>GET /api/jobs/{id}/logs</c>: the lines stored so far, and with <c>follow=true</c> the ones that arrive after,
/// until the job has ended and every line is out. Reads the database, so any replica can serve any job.
/// </summary>
public static class JobLogStream
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private const int Batch = 1000;

    public static async Task<IResult> StreamAsync(
        Guid id, string? follow, string? after, string? format, HttpContext http, HarnessDbContext db)
    {
        var errors = new ValidationErrors();
        var following = false;
        if (follow is not null && !bool.TryParse(follow, out following))
        {
            errors.Add("follow", "must be true or false");
        }
        long next = 0;
        if (after is not null)
        {
            if (!long.TryParse(after, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last))
            {
                errors.Add("after", "must be the seq of the last line already read (a number)");
            }
            else
            {
                next = last + 1;
            }
        }
        var ndjson = format == "ndjson" || (format is null && http.Request.Headers.Accept.ToString().Contains("application/x-ndjson", StringComparison.Ordinal));
        if (format is not (null or "text" or "ndjson"))
        {
            errors.Add("format", "must be text or ndjson");
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        if (!await db.Jobs.AsNoTracking().AnyAsync(j => j.Id == id, http.RequestAborted))
        {
            return Problems.NotFound($"id: no job '{id}'");
        }
        return new LogResult(id, next, following, ndjson, db);
    }

    private sealed class LogResult(Guid id, long next, bool follow, bool ndjson, HarnessDbContext db) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var response = http.Response;
            response.ContentType = ndjson ? "application/x-ndjson; charset=utf-8" : "text/plain; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var cancellationToken = http.RequestAborted;
            try
            {
                // Headers out at once, so a follower knows the stream is open before the first line.
                await response.StartAsync(cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                while (true)
                {
                    // The status is read before the lines: an agent sends every line before it reports the end.
                    var status = await db.Jobs.AsNoTracking().Where(j => j.Id == id).Select(j => j.Status).SingleAsync(cancellationToken);
                    var lines = await db.JobLogs.AsNoTracking()
                        .Where(l => l.JobId == id && l.Seq >= next)
                        .OrderBy(l => l.Seq)
                        .Take(Batch)
                        .ToListAsync(cancellationToken);
                    if (lines.Count > 0)
                    {
                        var text = new StringBuilder();
                        foreach (var line in lines)
                        {
                            text.Append(ndjson
                                ? JsonSerializer.Serialize(new JobLogLine(line.Seq, line.Stream, line.Text, line.At), HarnessJsonContext.Default.JobLogLine)
                                : line.Text);
                            text.Append('\n');
                        }
                        await response.WriteAsync(text.ToString(), cancellationToken);
                        await response.Body.FlushAsync(cancellationToken);
                        next = lines[^1].Seq + 1;
                    }
                    if (lines.Count == Batch)
                    {
                        continue;
                    }
                    if (!follow || JobStatusNames.IsTerminal(status))
                    {
                        return;
                    }
                    // Wall-clock polling of the table: this is I/O pacing, not a business deadline.
                    await Task.Delay(PollInterval, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The reader went away.
            }
        }
    }
}
