using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Tokens;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Tokens;

/// <summary>Operator tokens made by an admin: for people, CI jobs and the console.</summary>
public static class TokensApi
{
    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup(Routes.Tokens).WithTags("Tokens").RequireAuthorization(HarnessAuth.AdminPolicy);
        tokens.MapPost("", Create).WithSummary("Make an operator or admin token; the secret is returned once.");
        tokens.MapGet("", List).WithSummary("Every token (never the secrets).");
        tokens.MapDelete("/{id:guid}", Revoke).WithSummary("Revoke a token.");
        return app;
    }

    private static async Task<Results<Created<TokenCreatedResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateTokenRequest request, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.Required("name", request.Name, Limits.NameLength);
        var role = request.Role ?? OperatorRoles.Operator;
        if (role is not (OperatorRoles.Operator or OperatorRoles.Admin))
        {
            errors.Add("role", "must be 'operator' or 'admin'");
        }
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        if (await db.OperatorTokens.AnyAsync(t => t.Name == request.Name && t.RevokedAt == null, cancellationToken))
        {
            return Problems.Conflict("name", $"a live token named '{request.Name}' exists; revoke it first or pick another name");
        }
        var now = time.GetUtcNow();
        var secret = SecretKeys.Generate(SecretKeys.OperatorPrefix);
        var token = new OperatorTokenEntity
        {
            Id = Guid.CreateVersion7(now),
            Name = request.Name!,
            Role = role,
            TokenId = secret.Id,
            TokenHash = secret.Hash,
            CreatedAt = now,
        };
        db.OperatorTokens.Add(token);
        AuditLog.Record(db, now, user.Actor(), "token.created", token.Name, new { role });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"{Routes.Tokens}/{token.Id}", new TokenCreatedResponse(ToView(token), secret.Full));
    }

    private static async Task<Ok<IReadOnlyList<TokenView>>> List(HarnessDbContext db, CancellationToken cancellationToken)
    {
        var tokens = await db.OperatorTokens.AsNoTracking().OrderBy(t => t.CreatedAt).ToListAsync(cancellationToken);
        IReadOnlyList<TokenView> views = tokens.Select(ToView).ToList();
        return TypedResults.Ok(views);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        Guid id, HarnessDbContext db, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var token = await db.OperatorTokens.SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (token is null)
        {
            return Problems.NotFound($"id: no token '{id}'");
        }
        var now = time.GetUtcNow();
        token.RevokedAt ??= now;
        AuditLog.Record(db, now, user.Actor(), "token.revoked", token.Name);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static TokenView ToView(OperatorTokenEntity t) => new(t.Id, t.Name, t.Role, t.CreatedAt, t.RevokedAt);
}
