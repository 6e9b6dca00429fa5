using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Tests.Faults;

/// <summary>
/// A digest of everything the server stores: every table of the EF model (row order ignored) and
/// the artifact store's files. Two equal digests mean no request changed anything.
/// </summary>
internal static class DatabaseDigest
{
    public static async Task<string> ComputeAsync(HarnessDbContext db, string artifactsRoot)
    {
        var tables = db.Model.GetEntityTypes()
            .Select(t => t.GetTableName())
            .OfType<string>()
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        var text = new StringBuilder();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            // One round trip for every table: the digest runs after each rejected request, so it must be cheap.
            await using var command = connection.CreateCommand();
            command.CommandText = string.Join(";\n", tables.Select(t => $"SELECT * FROM \"{t}\""));
            await using var reader = await command.ExecuteReaderAsync();
            foreach (var table in tables)
            {
                var rows = new List<string>();
                while (await reader.ReadAsync())
                {
                    rows.Add(Row(reader));
                }
                rows.Sort(StringComparer.Ordinal);
                text.Append(table).Append('\n');
                foreach (var row in rows)
                {
                    text.Append(row).Append('\n');
                }
                await reader.NextResultAsync();
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        if (Directory.Exists(artifactsRoot))
        {
            foreach (var file in Directory.EnumerateFiles(artifactsRoot, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                text.Append("file ").Append(Path.GetRelativePath(artifactsRoot, file)).Append(' ').Append(new FileInfo(file).Length).Append('\n');
            }
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string Row(DbDataReader reader)
    {
        var values = new string[reader.FieldCount];
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var value = reader.GetValue(i);
            values[i] = value switch
            {
                DBNull => "∅",
                byte[] bytes => Convert.ToHexString(bytes),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
        }
        return string.Join('\u001f', values);
    }
}
