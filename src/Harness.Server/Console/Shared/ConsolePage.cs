using System.Security.Claims;
using Harness.Contracts.Tokens;
using Harness.Server.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Harness.Server.Console.Shared;

/// <summary>
/// A console page: loads its state through the feature services in a scope of its own (a circuit lives
/// long; one DbContext per load keeps a poll and a click from sharing one), and polls when it asks to.
/// </summary>
public class ConsolePage : ComponentBase, IDisposable
{
    private CancellationTokenSource? _polling;

    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] protected TimeProvider Time { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    /// <summary>How often the page reloads while open; null: never.</summary>
    protected virtual TimeSpan? RefreshInterval => null;

    /// <summary>False once there is nothing left to watch (a run that has ended).</summary>
    protected virtual bool KeepPolling => true;

    protected bool Loaded { get; private set; }
    protected string? LoadError { get; private set; }
    protected DateTimeOffset? LoadedAt { get; private set; }

    /// <summary>Reads the page's state; <paramref name="services"/> is a fresh scope.</summary>
    protected virtual Task LoadAsync(IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override Task OnInitializedAsync() => RefreshAsync();

    protected override void OnAfterRender(bool firstRender)
    {
        // Only an interactive render gets here: the prerendered HTML never starts a timer.
        if (firstRender && RefreshInterval is { } interval)
        {
            _polling = new CancellationTokenSource();
            _ = PollAsync(interval, _polling.Token);
        }
    }

    private async Task PollAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        try
        {
            while (KeepPolling && await timer.WaitForNextTickAsync(cancellationToken))
            {
                await InvokeAsync(async () =>
                {
                    await RefreshAsync();
                    StateHasChanged();
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The page was closed (or its circuit went away) while waiting.
        }
    }

    protected async Task RefreshAsync()
    {
        try
        {
            await using var scope = Scopes.CreateAsyncScope();
            await LoadAsync(scope.ServiceProvider, _polling?.Token ?? CancellationToken.None);
            LoadError = null;
            Loaded = true;
            LoadedAt = Time.GetUtcNow();
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            LoadError = $"Could not load this page's data: {e.Message}";
        }
    }

    /// <summary>Runs an operator action in a scope of its own, as the signed-in operator.</summary>
    protected async Task<T> ActAsync<T>(Func<IServiceProvider, ClaimsPrincipal, Task<T>> action)
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider, await UserAsync());
    }

    protected async Task<ClaimsPrincipal> UserAsync() =>
        AuthenticationState is null ? new ClaimsPrincipal() : (await AuthenticationState).User;

    protected async Task<bool> IsAdminAsync() => (await UserAsync()).HasClaim(HarnessAuth.RoleClaim, OperatorRoles.Admin);

    protected static string Ago(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } t)
        {
            return "never";
        }
        var span = now - t;
        return span.TotalSeconds < 60 ? $"{Math.Max(0, (int)span.TotalSeconds)} s ago"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min ago"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours} h ago"
            : $"{(int)span.TotalDays} d ago";
    }

    protected static string Time24(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "—";

    public void Dispose()
    {
        _polling?.Cancel();
        _polling?.Dispose();
        GC.SuppressFinalize(this);
    }
}
