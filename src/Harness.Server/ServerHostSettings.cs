namespace Harness.Server;

/// <summary>What a host (the CLI, <c>harness dev</c>, a test) adds to the server it builds.</summary>
public sealed class ServerHostSettings
{
    public string[] Args { get; init; } = [];

    /// <summary>Configuration that wins over appsettings and the environment (keys like <c>Harness:Database:Provider</c>).</summary>
    public Dictionary<string, string?> Configuration { get; init; } = [];

    /// <summary>Listen URLs; null keeps ASPNETCORE_URLS or the default.</summary>
    public string? Urls { get; init; }

    public Action<ILoggingBuilder> ConfigureLogging { get; init; } = _ => { };

    /// <summary>Runs after Harness registered its services, so it may replace any of them.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}
