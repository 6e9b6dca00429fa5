using System.CommandLine;

namespace Harness.Cli.Hosting;

/// <summary><c>--database-provider</c> and <c>--database-url</c>, shared by <c>server</c> and <c>migrate</c>.</summary>
internal sealed class DatabaseOptionsArguments
{
    public Option<string?> Provider { get; } = new("--database-provider")
    {
        Description = "sqlite (default) or postgres. Environment: HARNESS_DATABASE_PROVIDER.",
    };

    public Option<string?> Url { get; } = new("--database-url")
    {
        Description = "Connection string, e.g. 'Host=db;Database=harness;Username=harness;Password=…' or 'Data Source=harness.db'. Environment: HARNESS_DATABASE_URL.",
    };

    public DatabaseOptionsArguments()
    {
        Provider.AcceptOnlyFromAmong("sqlite", "postgres");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Provider);
        command.Options.Add(Url);
    }

    public Dictionary<string, string?> ToConfiguration(ParseResult parse)
    {
        var configuration = new Dictionary<string, string?>();
        if (parse.GetValue(Provider) is { } provider)
        {
            configuration["Harness:Database:Provider"] = provider;
        }
        if (parse.GetValue(Url) is { } url)
        {
            configuration["Harness:Database:ConnectionString"] = url;
        }
        return configuration;
    }
}
