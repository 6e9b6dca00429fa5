using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Harness.Server.Data;

/// <summary>
/// Entities read by hand-written SQL, for the few hot paths that batch several statements in one round
/// trip (EF sends one query per round trip). The columns come from the model, every mapped property of
/// the entity, so a column added to the entity is read here too; the rows read are attached to the
/// context as if EF had read them (tracked, unchanged), and saved by <c>SaveChanges</c> as usual.
/// Only for providers whose values need no conversion (PostgreSQL).
/// </summary>
internal static class TrackedRows
{
    /// <summary>The entity's columns, each qualified by <paramref name="alias"/>, in the order <see cref="ReadAsync"/> reads them.</summary>
    public static string Columns<T>(DbContext db, string alias) =>
        string.Join(", ", Properties<T>(db).Select(p => $"{alias}.{p.GetColumnName()}"));

    /// <summary>Reads the current result of <paramref name="reader"/> (selected with <see cref="Columns"/>) and attaches each row.</summary>
    public static async Task<List<T>> ReadAsync<T>(DbContext db, DbDataReader reader, CancellationToken cancellationToken)
        where T : class
    {
        var properties = Properties<T>(db);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            // The entities have required members, which only an object initializer sets; the model's
            // properties set every column here.
            var row = (T)Activator.CreateInstance(typeof(T))!;
            for (var i = 0; i < properties.Count; i++)
            {
                properties[i].PropertyInfo!.SetValue(row, Value(reader, i, properties[i].ClrType));
            }
            db.Attach(row);
            rows.Add(row);
        }
        return rows;
    }

    private static List<IProperty> Properties<T>(DbContext db) =>
        (db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model")).GetProperties().ToList();

    private static object? Value(DbDataReader reader, int i, Type type)
    {
        if (reader.IsDBNull(i))
        {
            return null;
        }
        var clr = Nullable.GetUnderlyingType(type) ?? type;
        return clr == typeof(string) ? reader.GetString(i)
            : clr == typeof(Guid) ? reader.GetGuid(i)
            : clr == typeof(int) ? reader.GetInt32(i)
            : clr == typeof(long) ? reader.GetInt64(i)
            : clr == typeof(bool) ? reader.GetBoolean(i)
            : clr == typeof(DateTimeOffset) ? reader.GetFieldValue<DateTimeOffset>(i)
            : throw new NotSupportedException($"column {i} is a {clr.Name}, which {nameof(TrackedRows)} does not read");
    }
}
