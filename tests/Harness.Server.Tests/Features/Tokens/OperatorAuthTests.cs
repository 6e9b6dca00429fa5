using System.Net;
using System.Net.Http.Json;
using Harness.Contracts;
using Harness.Contracts.Tokens;
using Harness.Server.Security;
using Harness.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Harness.Server.Tests.Features.Tokens;

public abstract class OperatorAuthTests(string provider) : ApiTest(provider)
{
    [Theory]
    [InlineData(Routes.Agents)]
    [InlineData(Routes.NodesStatus)]
    [InlineData(Routes.Devices)]
    [InlineData(Routes.Tokens)]
    public async Task ApiRoute_WithoutToken_Returns401Problem(string route)
    {
        using var anonymous = Server.Anonymous();

        var response = await anonymous.GetAsync(route);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "authorization");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task ApiRoute_WithAgentKey_Returns401()
    {
        var agent = await RegisterAgentAsync("PC-01");
        using var client = Server.Operator(agent.ApiKey);

        var response = await client.GetAsync(Routes.Agents);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Token_MadeByAdmin_Authenticates_UntilRevoked()
    {
        using var admin = Server.Operator();
        var created = await admin.PostAsJsonAsync(Routes.Tokens, new CreateTokenRequest("ci-bot"), Json.CreateTokenRequest);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync(Json.TokenCreatedResponse))!;
        using var bot = Server.Operator(token.Secret);

        Assert.Equal(HttpStatusCode.OK, (await bot.GetAsync(Routes.Agents)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Routes.Tokens}/{token.Token.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bot.GetAsync(Routes.Agents)).StatusCode);
        var listed = (await admin.GetFromJsonAsync(Routes.Tokens, Json.IReadOnlyListTokenView))!;
        Assert.NotNull(Assert.Single(listed, t => t.Name == "ci-bot").RevokedAt);
        Assert.DoesNotContain(token.Secret, await admin.GetStringAsync(Routes.Tokens));
    }

    [Theory]
    [InlineData("""{"role":"operator"}""", "name")]
    [InlineData("""{"name":"x","role":"root"}""", "role")]
    public async Task Token_BadRequest_Returns400NamingField(string body, string field)
    {
        using var admin = Server.Operator();

        var response = await admin.PostAsync(Routes.Tokens, RawJson(body));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task AdminBootstrap_WithoutConfiguredToken_GeneratesOnce_AndStoresOnlyTheHash()
    {
        // The test server has HARNESS_ADMIN_TOKEN set; a bootstrap without it is what a first start does.
        var bootstrap = new AdminTokenBootstrap(
            Server.Services.GetRequiredService<IServiceScopeFactory>(),
            Microsoft.Extensions.Options.Options.Create(new HarnessServerOptions()),
            Server.Time);

        var first = await bootstrap.EnsureAsync(CancellationToken.None);
        var second = await bootstrap.EnsureAsync(CancellationToken.None);

        Assert.NotNull(first);
        Assert.Null(second);
        var stored = await QueryAsync(db => db.OperatorTokens.AsNoTracking().SingleAsync(t => t.Role == OperatorRoles.Admin));
        Assert.True(SecretKeys.TryParse(first, SecretKeys.OperatorPrefix, out var id, out var secret));
        Assert.Equal(stored.TokenId, id);
        Assert.Equal(SecretKeys.Hash(secret), stored.TokenHash);
        using var generatedAdmin = Server.Operator(first);
        Assert.Equal(HttpStatusCode.OK, (await generatedAdmin.GetAsync(Routes.Tokens)).StatusCode);
    }
}

public sealed class OperatorAuthTests_Sqlite() : OperatorAuthTests(Providers.Sqlite);

public sealed class OperatorAuthTests_Postgres() : OperatorAuthTests(Providers.Postgres);
