using System.Net;
using Harness.Cli.Operator;
using Harness.Contracts;
using Harness.Contracts.Devices;

namespace Harness.Cli.Tests.Operator;

public sealed class ServerConnectionTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public ServerConnectionTests()
    {
        _cli.Api.OnJson<IReadOnlyList<DeviceView>>("GET", Routes.Devices, [], StubApi.Wire.IReadOnlyListDeviceView);
    }

    public void Dispose() => _cli.Dispose();

    private void WriteDevToken(string token)
    {
        Directory.CreateDirectory(Path.Combine(_cli.Directory, ".harness", "dev"));
        File.WriteAllText(Path.Combine(_cli.Directory, ServerConnection.DevTokenFile), token + "\n");
    }

    [Fact]
    public async Task Token_FlagBeatsEnvBeatsDevFile()
    {
        WriteDevToken("hop_file");
        _cli.Environment["HARNESS_TOKEN"] = "hop_env";

        await _cli.RunAsync("devices", "list", "--token", "hop_flag");
        await _cli.RunAsync("devices", "list");
        _cli.Environment.Remove("HARNESS_TOKEN");
        await _cli.RunAsync("devices", "list");

        Assert.Equal(["Bearer hop_flag", "Bearer hop_env", "Bearer hop_file"], _cli.Api.Requests.Select(r => r.Authorization));
    }

    [Fact]
    public void Resolve_NothingAnywhere_NoToken_DefaultServer()
    {
        var connection = ServerConnection.Resolve(null, null, _ => null, _cli.Directory);

        Assert.Null(connection.Token);
        Assert.Equal(new Uri("http://127.0.0.1:5080"), connection.Server);
    }

    [Fact]
    public void Resolve_ServerFlagBeatsEnv()
    {
        Assert.Equal(new Uri("http://flag:1"), ServerConnection.Resolve("http://flag:1", null, _ => "http://env:2", _cli.Directory).Server);
        Assert.Equal(new Uri("http://env:2"), ServerConnection.Resolve(null, null, n => n == "HARNESS_URL" ? "http://env:2" : null, _cli.Directory).Server);
    }

    [Fact]
    public async Task Server_NotAUrl_ClearError()
    {
        var result = await _cli.RunAsync("devices", "list", "--server", "localhost:5080");

        Assert.Equal(1, result.Exit);
        Assert.Contains("--server: 'localhost:5080' is not an http(s) URL", result.Error);
        Assert.Empty(_cli.Api.Requests);
    }

    [Fact]
    public async Task Unauthorized_WithoutToken_SaysWhereTokensComeFrom()
    {
        var cli = new CliRunner();
        cli.Api.OnProblem("GET", Routes.Devices, HttpStatusCode.Unauthorized, "Unauthorized", "authorization: a bearer token is required");

        var result = await cli.RunAsync("devices", "list");

        Assert.Equal(1, result.Exit);
        Assert.Contains("harness: 401 Unauthorized", result.Error);
        Assert.Contains("No token was sent", result.Error);
        Assert.Null(Assert.Single(cli.Api.Requests).Authorization);
        cli.Dispose();
    }

    [Fact]
    public async Task Unauthorized_WithEnvToken_NamesItsSource()
    {
        var cli = new CliRunner();
        cli.Environment["HARNESS_TOKEN"] = "hop_old";
        cli.Api.OnProblem("GET", Routes.Devices, HttpStatusCode.Unauthorized, "Unauthorized", null);

        var result = await cli.RunAsync("devices", "list");

        Assert.Contains("The token from HARNESS_TOKEN was refused.", result.Error);
        cli.Dispose();
    }

    [Fact]
    public async Task MissingRoute_SaysTheServerMayBeOlder()
    {
        var result = await _cli.RunAsync("devices", "scan");

        Assert.Equal(1, result.Exit);
        Assert.Contains("harness: 404 Not Found", result.Error);
        Assert.Contains("POST /api/nodes/scan: the server at http://127.0.0.1:5080/ has no such route", result.Error);
    }

    [Fact]
    public async Task ServerDown_SaysHowToStartOne()
    {
        var cli = new CliRunner();
        cli.Api.On("GET", Routes.Devices, _ => throw new HttpRequestException("Connection refused (127.0.0.1:5080)"));

        var result = await cli.RunAsync("devices", "list");

        Assert.Equal(1, result.Exit);
        Assert.Contains("cannot reach the server at http://127.0.0.1:5080/", result.Error);
        Assert.Contains("./harness dev", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        cli.Dispose();
    }
}
