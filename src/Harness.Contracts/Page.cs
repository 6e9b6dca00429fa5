namespace Harness.Contracts;

/// <summary>One page of a keyset-paged listing; pass <see cref="NextCursor"/> back as <c>cursor</c> for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
