using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Harness.Contracts;

namespace Harness.Client;

internal static class HarnessHttp
{
    public static async Task<TResponse> SendAsync<TRequest, TResponse>(
        HttpClient http, HttpMethod method, string path, TRequest body, string? bearer,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, requestType) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync(responseType, cancellationToken)
            ?? throw new HarnessApiException(response.StatusCode, "Empty response", null);
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string? title = null, detail = null;
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            title = problem.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
            detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's error page, say): the status alone must do.
        }
        throw new HarnessApiException(response.StatusCode, title, detail);
    }

    public static HarnessJsonContext Json => HarnessJsonContext.Default;
}
