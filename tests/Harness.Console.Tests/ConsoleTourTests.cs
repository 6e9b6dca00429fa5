using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Harness.Console.Tests;

/// <summary>
/// The operator's path through the console against the simulated farm: build a playbook with
/// probabilities, run it, watch the run finish through the page's own polling (a silent device's
/// WAIT 15s, then its error border), open a screenshot, see the offline devices SKIPPED, trigger a scan. Every page is photographed for the docs.
/// </summary>
[Collection(DevConsoleCollection.Name)]
public sealed partial class ConsoleTourTests(DevConsole console)
{
    private readonly string _images = DevConsole.ImagesDir();

    [Fact]
    public async Task Operator_BuildsAPlaybook_RunsIt_AndWatchesTheHeatmapFinish_ThroughPollingAlone()
    {
        var page = await console.SignedInPageAsync();

        // Commands: two command assets, then a playbook of both, reordered, with probabilities.
        await DevConsole.OpenAsync(page, "/commands");
        await SaveAssetAsync(page, "capture-home", """[{ "id": "shot", "type": "screenshot", "params": { "name": "home" } }, { "id": "up", "type": "upload" }]""");
        await SaveAssetAsync(page, "open-app", """[{ "id": "pre", "type": "preflight" }, { "id": "open", "type": "launch_app", "params": { "package": "com.example.app" } }]""");

        await page.SelectOptionAsync("#add-asset", new SelectOptionValue { Label = "capture-home" });
        await page.ClickAsync("#add-step");
        await page.SelectOptionAsync("#add-asset", new SelectOptionValue { Label = "open-app" });
        await page.ClickAsync("#add-step");
        await page.ClickAsync("button[aria-label='Move step 2 up']");
        await Expect(page.Locator("#playbook-items li").First).ToContainTextAsync("open-app");

        // The same validation as the API, worded the same way.
        await page.FillAsync("#probability-0", "1.5");
        await page.PressAsync("#probability-0", "Tab");
        await page.ClickAsync("#save-playbook");
        await Expect(page.Locator("#playbook-errors")).ToContainTextAsync("name: required");
        await Expect(page.Locator("#playbook-errors")).ToContainTextAsync("items[0].probability: must be between 0 and 1");

        await page.FillAsync("#playbook-name", "smoke");
        await page.FillAsync("#probability-0", "0.5");
        await page.PressAsync("#probability-0", "Tab");
        await page.FillAsync("#probability-1", "1");
        await page.PressAsync("#probability-1", "Tab");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-commands.png"), FullPage = true });
        await page.ClickAsync("#save-playbook");
        await Expect(page.Locator("#playbook-saved")).ToContainTextAsync("smoke");
        await Expect(page.Locator("#playbooks")).ToContainTextAsync("open-app (0.5) → capture-home (1)");

        // Runs: start the playbook on every device.
        await DevConsole.OpenAsync(page, "/runs");
        await page.SelectOptionAsync("#run-source", new SelectOptionValue { Label = "smoke" });
        await page.FillAsync("#run-concurrency", "4");
        await page.PressAsync("#run-concurrency", "Tab");
        await page.ClickAsync("#start-run");
        await page.WaitForURLAsync(RunUrl());
        await page.Locator("[data-interactive=true]").WaitForAsync();

        // From here on the page is never reloaded: a marker on window survives only without a reload.
        await page.EvaluateAsync("() => { window.__consoleTour = 'same page'; }");
        // The failing device stops answering its preflight: the agent gives it the 15 s grace wait first.
        await Expect(page.Locator(".heatmap .cell.s-waiting .tag")).ToHaveTextAsync("WAIT 15s", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-run-monitor-wait.png"), FullPage = true });
        await Expect(page.Locator("#run-progress")).ToHaveTextAsync($"{DevConsole.Devices} / {DevConsole.Devices} done", new() { Timeout = 60_000 });
        // One device fails every command, so the run as a whole failed.
        await Expect(page.Locator("#run-status")).ToHaveTextAsync("failed");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__consoleTour"));

        var cells = page.Locator(".heatmap .cell");
        await Expect(cells).ToHaveCountAsync(DevConsole.Devices);
        var skipped = page.Locator(".heatmap .cell.s-skipped_offline");
        await Expect(skipped).ToHaveCountAsync(DevConsole.OfflineDevices);
        await Expect(skipped.First.Locator(".tag")).ToHaveTextAsync("SKIPPED(offline)");
        Assert.Contains("Skipped (offline)", await skipped.First.GetAttributeAsync("aria-label"), StringComparison.Ordinal);
        await Expect(page.Locator(".heatmap .cell.s-failed.error-border")).ToHaveCountAsync(DevConsole.FailingDevices);
        await Expect(page.Locator(".heatmap .cell.s-succeeded")).ToHaveCountAsync(DevConsole.Devices - DevConsole.OfflineDevices - DevConsole.FailingDevices);

        // A device's step log and its screenshot, reached from the keyboard.
        await page.Locator(".heatmap .cell.s-succeeded").First.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#step-log")).ToContainTextAsync("capture-home-shot");
        var shot = page.Locator(".shots img").First;
        await Expect(shot).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await shot.ElementHandleAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-run-monitor.png"), FullPage = true });
        var href = await page.Locator(".screenshot-link").First.GetAttributeAsync("href");
        var image = await page.Context.APIRequest.GetAsync(href!);
        Assert.Equal(200, image.Status);
        Assert.Equal("image/png", image.Headers["content-type"]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await image.BodyAsync())[..4]);

        await skipped.First.ClickAsync();
        await Expect(page.Locator("#run-device")).ToContainTextAsync("offline when the run was dispatched");
        await page.Locator(".heatmap .cell.s-failed").ClickAsync();
        await Expect(page.Locator("#run-device")).ToContainTextAsync("device_unresponsive");

        // Runs list, with the finished run in it.
        await DevConsole.OpenAsync(page, "/runs");
        await Expect(page.Locator("#runs")).ToContainTextAsync("smoke");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-runs.png"), FullPage = true });

        // Devices: the fleet heatmap, an offline device's detail, and a scan.
        await DevConsole.OpenAsync(page, "/devices");
        await Expect(page.Locator(".heatmap .cell.s-offline")).ToHaveCountAsync(DevConsole.OfflineDevices);
        await page.Locator(".heatmap .cell.s-offline").First.ClickAsync();
        await Expect(page.Locator("#device-detail")).ToContainTextAsync("Offline");
        await Expect(page.Locator("#device-detail")).ToContainTextAsync("Skipped (offline)");
        await page.ClickAsync("#scan");
        await Expect(page.Locator("#scan-status")).ToContainTextAsync("Scan requested on PC-01");
        await Expect(page.Locator("#scans")).ToContainTextAsync("PC-01");
        await Expect(page.Locator("#scans tbody tr").First).ToContainTextAsync("succeeded", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-devices.png"), FullPage = true });

        // Dashboard: KPIs and the to-do list name the offline devices.
        await DevConsole.OpenAsync(page, "/");
        await Expect(page.Locator(".kpis")).ToContainTextAsync("Runs");
        await Expect(page.Locator("#todo-title + ul")).ToContainTextAsync("is offline");
        await Expect(page.Locator("#todo-title + ul")).ToContainTextAsync("failed on 1 of 12 devices");
        await Expect(page.Locator(".heatmap.mini .cell")).ToHaveCountAsync(DevConsole.Devices);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-dashboard.png"), FullPage = true });

        // Workspaces: create one on the fake runtime through the console.
        await DevConsole.OpenAsync(page, "/workspaces");
        await page.FillAsync("#ws-name", "alice-dev");
        await page.FillAsync("#ws-image", "example/ide:1");
        await page.PressAsync("#ws-image", "Tab");
        await page.ClickAsync("text=Create");
        await Expect(page.Locator("#workspaces")).ToContainTextAsync("alice-dev");
        await Expect(page.Locator("#workspaces")).ToContainTextAsync("running", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-workspaces.png"), FullPage = true });

        await DevConsole.OpenAsync(page, "/agents");
        await Expect(page.Locator("#agents")).ToContainTextAsync("PC-01");
        await page.ClickAsync("button[aria-label='Show agent PC-01']");
        await Expect(page.Locator("text=Vendor WebSocket")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-agents.png"), FullPage = true });

        // Jobs: the scan above, as GET /jobs lists it.
        await DevConsole.OpenAsync(page, "/jobs");
        await Expect(page.Locator("#jobs")).ToContainTextAsync("scan");
        await page.Locator("#jobs tbody button").First.ClickAsync();
        await Expect(page.Locator("#jobs")).ToContainTextAsync("last_error_message");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("console-jobs.png"), FullPage = true });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Heatmap_StaysOnOneLaptopScreen_AtAThousandDevices()
    {
        // The page's own CSS and component markup, with 1,000 cells, measured in the real browser.
        var page = await console.SignedInPageAsync();
        await DevConsole.OpenAsync(page, "/devices");
        var height = await page.EvaluateAsync<double>("""
            () => {
              const grid = document.querySelector('.heatmap .grid');
              const cell = grid.querySelector('.cell');
              grid.closest('.heatmap').classList.add('dense');
              for (let i = grid.children.length; i < 1000; i++) grid.appendChild(cell.cloneNode(true));
              return grid.getBoundingClientRect().height;
            }
            """);
        Assert.InRange(height, 100, 2 * 900);
        await page.Context.CloseAsync();
    }

    private static async Task SaveAssetAsync(IPage page, string name, string steps)
    {
        if (!await page.Locator("#asset-name").IsVisibleAsync())
        {
            await page.ClickAsync("#new-asset summary");
        }
        await page.FillAsync("#asset-name", name);
        await page.FillAsync("#asset-steps", steps);
        await page.PressAsync("#asset-steps", "Tab");
        await page.ClickAsync("#save-asset");
        await Expect(page.Locator("#assets")).ToContainTextAsync(name);
    }

    private string Shot(string name) => Path.Combine(_images, name);

    private Regex RunUrl() => new($"^{Regex.Escape(console.Url)}/runs/[0-9a-f-]{{36}}$");
}
