using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Harness.Server.Http;

/// <summary>An opaque keyset position: the (created_at, id) of the last row of the previous page.</summary>
public sealed record PageCursor(DateTimeOffset CreatedAt, Guid Id)
{
    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $"{CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{Id:N}"));

    public static bool TryDecode(string value, out PageCursor? cursor)
    {
        cursor = null;
        if (value.Length > 128)
        {
            return false;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value));
            var parts = text.Split(':');
            if (parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
                && Guid.TryParseExact(parts[1], "N", out var id))
            {
                cursor = new PageCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}

/// <summary>The <c>limit</c> and <c>cursor</c> of a keyset-paged listing (newest first by created_at, id).</summary>
public sealed record PageRequest(int Take, PageCursor? After)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Validates both parameters; problems go to <paramref name="errors"/>.</summary>
    public static PageRequest Parse(string? limit, string? cursor, ValidationErrors errors)
    {
        var take = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, out take) || take < 1 || take > MaxLimit))
        {
            errors.Add("limit", $"must be an integer from 1 to {MaxLimit}");
        }
        PageCursor? after = null;
        if (cursor is not null && !PageCursor.TryDecode(cursor, out after))
        {
            errors.Add("cursor", "is not a cursor returned by this listing");
        }
        return new PageRequest(take, after);
    }

    /// <summary>Rows were read with <c>Take + 1</c>: drops the extra one and returns the next page's cursor, if any.</summary>
    public string? Trim<T>(List<T> rows, Func<T, (DateTimeOffset CreatedAt, Guid Id)> key)
    {
        if (rows.Count <= Take)
        {
            return null;
        }
        rows.RemoveAt(rows.Count - 1);
        var (createdAt, id) = key(rows[^1]);
        return new PageCursor(createdAt, id).Encode();
    }
}
