using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Harness.Contracts;
using Harness.Testing;

namespace Harness.Server.Tests.Features.Health;

public abstract class HealthApiTests(string provider) : ApiTest(provider)
{
    [Theory]
    [InlineData(Routes.Health)]
    [InlineData(Routes.HealthLive)]
    [InlineData(Routes.HealthReady)]
    public async Task Health_Anonymous_ReturnsOk(string route)
    {
        using var client = Server.Anonymous();

        var response = await client.GetFromJsonAsync(route, Json.HealthResponse);

        Assert.Equal("ok", response!.Status);
    }

    [Fact]
    public async Task OpenApi_DocumentListsTheApi()
    {
        using var client = Server.Anonymous();

        using var document = JsonDocument.Parse(await client.GetStringAsync(Routes.OpenApiDocument));

        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty(Routes.NodesHeartbeat, out _));
        Assert.True(paths.TryGetProperty(Routes.Agents, out _));
        Assert.True(paths.TryGetProperty(Routes.Jobs, out _));
        Assert.True(paths.TryGetProperty(Routes.Workspaces, out _));
        Assert.True(paths.TryGetProperty($"{Routes.Workspaces}/{{workspace}}/archive", out _));
        Assert.True(paths.TryGetProperty($"{Contracts.Runtime.RuntimeRoutes.NodeArchives}/{{archiveId}}", out _));
    }

    [Fact]
    public async Task ApiReference_IsServedWithoutExternalAssets()
    {
        using var client = Server.Anonymous();

        var page = await client.GetStringAsync(Routes.ApiReference + "/");

        Assert.Contains("scalar.js", page);
        Assert.DoesNotContain("cdn.jsdelivr", page);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Routes.ApiReference + "/scalar.js")).StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        using var client = Server.Operator();

        var response = await client.GetAsync("/api/does-not-exist");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

public sealed class HealthApiTests_Sqlite() : HealthApiTests(Providers.Sqlite);

public sealed class HealthApiTests_Postgres() : HealthApiTests(Providers.Postgres);
