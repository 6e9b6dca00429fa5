namespace Harness.Cli.Operator;

/// <summary>Where the server is and which operator token to send, with the source of each for error messages.</summary>
internal sealed record ServerConnection(Uri Server, string? Token, string TokenSource)
{
    public const string DefaultServer = "http://127.0.0.1:5080";
    public const string ServerVariable = "HARNESS_URL";
    public const string TokenVariable = "HARNESS_TOKEN";

    /// <summary>The token <c>harness dev</c> writes, relative to the folder it was started in.</summary>
    public static readonly string DevTokenFile = Path.Combine(".harness", "dev", "admin-token");

    /// <summary>Server: flag, else HARNESS_URL, else the dev default. Token: flag, else HARNESS_TOKEN, else the dev token file.</summary>
    public static ServerConnection Resolve(string? serverFlag, string? tokenFlag, Func<string, string?> environment, string currentDirectory)
    {
        var server = NonEmpty(serverFlag) ?? NonEmpty(environment(ServerVariable)) ?? DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"--server: '{server}' is not an http(s) URL (e.g. {DefaultServer}).");
        }
        if (NonEmpty(tokenFlag) is { } flag)
        {
            return new(uri, flag, "--token");
        }
        if (NonEmpty(environment(TokenVariable)) is { } variable)
        {
            return new(uri, variable, TokenVariable);
        }
        var file = Path.Combine(currentDirectory, DevTokenFile);
        if (File.Exists(file) && NonEmpty(File.ReadAllText(file).Trim()) is { } dev)
        {
            return new(uri, dev, file);
        }
        return new(uri, null, "none");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
