using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Harness.Server.Data;

/// <summary>
/// HARNESS_DATABASE_URL takes a provider connection string or, for PostgreSQL, the URL form that
/// compose files and managed databases hand out (<c>postgres://user:password@host:5432/db?sslmode=require</c>).
/// </summary>
public static class ConnectionStrings
{
    /// <summary>How many statements each PostgreSQL connection prepares, unless the connection string says (<c>Max Auto Prepare</c>).</summary>
    public const int AutoPrepared = 64;

    /// <summary>The provider's own connection string for <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">The value is neither a valid connection string nor a postgres URL.</exception>
    public static string Normalize(string provider, string value)
    {
        if (provider == DatabaseOptions.Postgres)
        {
            var given = IsPostgresUrl(value) ? FromPostgresUrl(value) : value;
            var builder = new NpgsqlConnectionStringBuilder(given);
            var keys = new DbConnectionStringBuilder { ConnectionString = given }.Keys.Cast<string>()
                .Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            // Defaults the server's own use calls for; a value the operator gave is kept.
            if (!keys.Contains("NoResetOnClose"))
            {
                // The server keeps no session state (its locks are transaction-scoped), so a pooled connection
                // need not be reset with DISCARD ALL each time it is handed back: that was half of all statements
                // an idle fleet cost (docs/benchmarks.md, "Idle cost").
                builder.NoResetOnClose = true;
            }
            if (!keys.Contains("MaxAutoPrepare"))
            {
                // The server sends the same few dozen statements over and over: prepared once per connection,
                // PostgreSQL stops parsing and planning them on every call (docs/benchmarks.md, "Drain").
                builder.MaxAutoPrepare = AutoPrepared;
            }
            return builder.ConnectionString;
        }
        return new SqliteConnectionStringBuilder(value).ConnectionString;
    }

    /// <summary>Like <see cref="Normalize"/>; says why not instead of throwing.</summary>
    public static bool TryNormalize(string provider, string value, out string normalized, out string? problem)
    {
        try
        {
            normalized = Normalize(provider, value);
            problem = null;
            return true;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            normalized = value;
            problem = e.Message;
            return false;
        }
    }

    private static bool IsPostgresUrl(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    private static string FromPostgresUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{Redact(value)}' is not a valid postgres:// URL");
        }
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            // libpq's spellings (sslmode, application_name) are Npgsql keywords or synonyms once '_' reads as a space.
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).Replace('_', ' ');
            builder[key] = equals < 0 ? "true" : Uri.UnescapeDataString(pair[(equals + 1)..]);
        }
        return builder.ConnectionString;
    }

    private static string Redact(string value)
    {
        var at = value.LastIndexOf('@');
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        return at > scheme && scheme >= 0 ? value[..(scheme + 3)] + "…" + value[at..] : value;
    }
}
