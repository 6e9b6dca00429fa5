using System.CommandLine;
using Microsoft.Extensions.Logging.Console;

namespace Harness.Cli.Hosting;

/// <summary>Structured JSON logs for servers and agents; readable single lines for <c>harness dev</c>.</summary>
internal static class LogFormat
{
    public const string Json = "json";
    public const string Text = "text";

    public static Option<string> CreateOption(string defaultFormat)
    {
        var option = new Option<string>("--log-format")
        {
            Description = "Log output: 'json' (one structured object per line) or 'text'.",
            DefaultValueFactory = _ => defaultFormat,
        };
        option.AcceptOnlyFromAmong(Json, Text);
        return option;
    }

    public static Action<ILoggingBuilder> Configure(string format) => logging =>
    {
        logging.ClearProviders();
        if (format == Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
        }
        // Per-request and per-query lines drown everything else; configuration can still lower these.
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        logging.AddFilter("Microsoft.Extensions.Http", LogLevel.Warning);
    };
}
