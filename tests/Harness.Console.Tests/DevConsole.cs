using Harness.Testing;
using Microsoft.Playwright;

namespace Harness.Console.Tests;

/// <summary>
/// A real <c>harness dev</c> (12 simulated devices: two offline, one failing every command) and a headless Debian
/// Chromium driven by Playwright, shared by the console tests.
/// </summary>
public sealed class DevConsole : IAsyncLifetime
{
    public const int Devices = 12;
    public const int OfflineDevices = 2;
    public const int FailingDevices = 1;

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"harness-console-e2e-{Guid.NewGuid():N}");
    private HarnessProcess? _dev;
    private IPlaywright? _playwright;

    public string Url { get; } = $"http://127.0.0.1:{HarnessProcess.FreePort()}";
    public string AdminToken { get; private set; } = "";
    public IBrowser Browser { get; private set; } = null!;
    public HarnessProcess Dev => _dev!;

    public async Task InitializeAsync()
    {
        _dev = HarnessProcess.Start(
            ["dev", "--data-dir", _dataDir, "--urls", Url, "--devices", Devices.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--offline", OfflineDevices.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--failing", FailingDevices.ToString(System.Globalization.CultureInfo.InvariantCulture), "--workspace-runtime", "fake",
             "--sandbox", "bubblewrap"]);
        AdminToken = (await _dev.WaitForLineAsync(l => l.Contains("Admin token", StringComparison.Ordinal), TimeSpan.FromSeconds(90)))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Last();
        await _dev.WaitForLineAsync(l => l.Contains("Agent online", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (no cookies) on a laptop-sized screen.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Url,
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
            ReducedMotion = ReducedMotion.Reduce,
        });
        // Generous: the machine running the tests may be busy building something else.
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async Task<IPage> SignedInPageAsync()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/signin");
        for (var attempt = 1; ; attempt++)
        {
            await page.FillAsync("#token", AdminToken);
            await page.ClickAsync("button[type=submit]");
            // Signed in once the dashboard's document arrives. Its full load (every asset) is not awaited: a test opens
            // its own page next, and on a machine busy with the other suites that load has taken over 30 s.
            try
            {
                await page.WaitForURLAsync($"{Url}/", new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 45_000 });
                return page;
            }
            catch (TimeoutException) when (attempt < 2 && new Uri(page.Url).AbsolutePath == "/signin")
            {
                // Twice, on a machine busy with the other suites, the page was still on the sign-in form after the
                // wait, its network idle (cause unknown). An operator would press the button again, and so does
                // this, once; a second miss fails with where the page is and what it says.
            }
            catch (TimeoutException e)
            {
                var alert = await page.Locator("#signin-error").AllTextContentsAsync();
                throw new TimeoutException($"sign-in did not reach the dashboard: the page is at {page.Url}{(alert.Count > 0 ? $", saying \"{alert[0]}\"" : "")}", e);
            }
        }
    }

    /// <summary>
    /// Opens a console page and waits for its live connection: a click on the prerendered page,
    /// before the connection is up, would be lost.
    /// </summary>
    public static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.Locator("[data-interactive=true]").WaitForAsync();
    }

    /// <summary>docs/images in the checkout: the test run's screenshots are the README's.</summary>
    public static string ImagesDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.slnx")))
            {
                var images = Path.Combine(dir.FullName, "docs", "images");
                Directory.CreateDirectory(images);
                return images;
            }
        }
        throw new DirectoryNotFoundException("Harness.slnx is not above the test assembly");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (_dev is not null)
        {
            if (!_dev.Lines.Any(l => l.Contains("Harness dev stopped", StringComparison.Ordinal)))
            {
                try
                {
                    _dev.Signal(HarnessProcess.SigTerm);
                    await _dev.WaitForExitAsync(TimeSpan.FromSeconds(20));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                }
            }
            await _dev.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DevConsoleCollection : ICollectionFixture<DevConsole>
{
    public const string Name = "harness dev + Chromium";
}
