using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Harness.Console.Tests;

/// <summary>Who may see the console, and that it never shows the admin token.</summary>
[Collection(DevConsoleCollection.Name)]
public sealed class ConsoleAccessTests(DevConsole console)
{
    public static readonly string[] Pages = ["/", "/commands", "/devices", "/runs", $"/runs/{Guid.Empty}", "/workspaces", "/agents", "/jobs"];

    [Fact]
    public async Task SignedOutVisitor_OnEveryPage_IsRedirectedToSignIn_WithALocalReturnUrl()
    {
        var page = await console.NewPageAsync();
        foreach (var path in Pages)
        {
            await page.GotoAsync(path);
            Assert.Equal($"{console.Url}/signin?returnUrl={Uri.EscapeDataString(path)}", page.Url);
            await Expect(page.Locator("#token")).ToBeVisibleAsync();
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DevConsole.ImagesDir(), "console-signin.png") });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SignIn_WithABadToken_ShowsAnError_AndStaysSignedOut()
    {
        var page = await console.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.FillAsync("#token", "hop_0000000000000000.not-a-real-secret");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator("#signin-error")).ToContainTextAsync("unknown or revoked token");
        Assert.Equal("", await page.InputValueAsync("#token"));
        await page.GotoAsync("/devices");
        Assert.StartsWith($"{console.Url}/signin", page.Url);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SignIn_ReturnsToTheAskedPage_OnlyWhenItIsLocal_AndSignOutEndsTheSession()
    {
        var page = await console.NewPageAsync();
        await page.GotoAsync("/signin?returnUrl=%2F%2Fevil.example%2F");
        await page.FillAsync("#token", console.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{console.Url}/");

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "harness_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(console.AdminToken, cookie.Value, StringComparison.Ordinal);

        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync($"{console.Url}/signin");
        await page.GotoAsync("/agents");
        Assert.StartsWith($"{console.Url}/signin?returnUrl=%2Fagents", page.Url);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task NoPage_EverContainsTheAdminToken()
    {
        var page = await console.SignedInPageAsync();
        foreach (var path in Pages.Append("/signin"))
        {
            var response = await page.GotoAsync(path);
            Assert.DoesNotContain(console.AdminToken, await response!.TextAsync(), StringComparison.Ordinal);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            Assert.DoesNotContain(console.AdminToken, await page.ContentAsync(), StringComparison.Ordinal);
            Assert.DoesNotContain(console.AdminToken, page.Url, StringComparison.Ordinal);
        }
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Jobs_IsJsonForApiClients_AndThePageForBrowsers()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(console.Url) };

        using var api = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        api.Headers.Authorization = new AuthenticationHeaderValue("Bearer", console.AdminToken);
        api.Headers.Accept.ParseAdd("text/html,application/json");
        using var apiResponse = await http.SendAsync(api);
        Assert.Equal(HttpStatusCode.OK, apiResponse.StatusCode);
        Assert.Equal("application/json", apiResponse.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"items\"", await apiResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var anonymousApi = await http.GetAsync("/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousApi.StatusCode);

        using var browser = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        browser.Headers.Accept.ParseAdd("text/html");
        using var browserResponse = await http.SendAsync(browser);
        Assert.Equal(HttpStatusCode.Redirect, browserResponse.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Fjobs", browserResponse.Headers.Location?.PathAndQuery);

        var page = await console.SignedInPageAsync();
        await page.GotoAsync("/jobs");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Jobs");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Jobs_ShowsASandboxJobsLiveOutputWithoutItsSecret_AndCancelsIt()
    {
        const string secret = "console-Secret-77aa";
        using var http = new HttpClient { BaseAddress = new Uri(console.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", console.AdminToken);
        using var created = await http.PostAsync("/api/jobs", new StringContent(
            """{"type":"sandbox","image":"host","command":["sh","-c","echo console-sees-this; echo token=$TOKEN; sleep 120"],"secrets":{"TOKEN":"SECRET"}}""".Replace("SECRET", secret, StringComparison.Ordinal),
            System.Text.Encoding.UTF8, "application/json"));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Accepted, body);
        var id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var page = await console.SignedInPageAsync();
        await DevConsole.OpenAsync(page, "/jobs");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Show job {id}" }).ClickAsync();
        var log = page.Locator("pre.job-log");
        // Through the page's polling alone (every 5 s), on a machine that may be busy: a poll may come between the two lines.
        await Expect(log).ToContainTextAsync("console-sees-this", new() { Timeout = 20_000 });
        await Expect(log).ToContainTextAsync("token=***", new() { Timeout = 20_000 });
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(DevConsole.ImagesDir(), "console-job.png"), FullPage = true });

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).ClickAsync();
        // The page polls every 5 s; the agent kills the sandbox within about a second of the request.
        await Expect(page.Locator("#jobs td.status-canceled").First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await page.Context.CloseAsync();
    }
}
