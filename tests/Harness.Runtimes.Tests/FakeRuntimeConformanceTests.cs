using Harness.Runtimes.Fake;
using Harness.Runtimes.Tests.Conformance;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Tests;

/// <summary>The fake runtime against the conformance suite: the reference every other runtime is held to.</summary>
public sealed class FakeRuntimeConformanceTests : WorkspaceRuntimeConformance, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harness-fake-runtime-").FullName;

    protected override string Image => "harness-test/http:1";

    protected override Task<IWorkspaceRuntime> CreateRuntimeAsync() =>
        Task.FromResult<IWorkspaceRuntime>(new FakeWorkspaceRuntime(
            Options.Create(new FakeRuntimeOptions { Root = _root, Images = [Image] }), TimeProvider.System));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
