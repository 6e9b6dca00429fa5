using Harness.Server.Console;
using Microsoft.AspNetCore.Http;

namespace Harness.Server.Tests.Console;

/// <summary>Which client gets the console page on a path the API shares, and where sign-in may send a browser.</summary>
public sealed class ConsoleRoutingTests
{
    [Theory]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", null, true)]
    [InlineData("text/html", null, true)]
    [InlineData("text/html", "Bearer hop_x.y", false)]
    [InlineData("application/json", null, false)]
    [InlineData("*/*", null, false)]
    [InlineData(null, null, false)]
    [InlineData("text/html;q=0", null, false)]
    public void WantsPage_OnlyForABrowserWithoutABearerToken(string? accept, string? authorization, bool expected)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        Assert.Equal(expected, ConsolePageMatcherPolicy.WantsPage(context.Request));
    }

    [Theory]
    [InlineData("/runs/42", "/runs/42")]
    [InlineData("/devices?device=SIM-0001", "/devices?device=SIM-0001")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("runs", "/")]
    public void SafeReturnUrl_KeepsOnlyLocalPaths(string? returnUrl, string expected) =>
        Assert.Equal(expected, ConsoleHost.SafeReturnUrl(returnUrl));
}
