using Harness.Runtimes.Sandbox.Bubblewrap;

namespace Harness.Runtimes.Sandbox.Tests.Bubblewrap;

public sealed class BubblewrapArgumentsTests
{
    private static SandboxSpec Spec(SandboxNetwork network) => new()
    {
        Name = "harness-job-x",
        Image = "busybox",
        Command = ["true"],
        Environment = new Dictionary<string, string> { ["TOKEN"] = "secret value" },
        Network = network,
        User = new SandboxUser(1000, 1001),
        Workspace = SandboxMount.Directory("/w"),
        HomeDirectory = "/h",
        CredentialsDirectory = "/c",
    };

    [Fact]
    public void Build_NetworkNone_UnsharesEverythingAndEndsWithAReadOnlyRoot()
    {
        var args = BubblewrapArguments.Build(Spec(SandboxNetwork.None), [new RootEntry("/bin", "/r/bin", null), new RootEntry("/lib", null, "usr/lib")], "/w", new BubblewrapSandboxOptions { TmpSizeMb = 8 });
        var text = string.Join(' ', args);
        Assert.DoesNotContain("--share-net", args);
        Assert.Contains("--unshare-all --unshare-user", text, StringComparison.Ordinal);
        Assert.Contains("--disable-userns --cap-drop ALL --uid 1000 --gid 1001", text, StringComparison.Ordinal);
        Assert.Contains("--ro-bind /r/bin /bin --symlink usr/lib /lib", text, StringComparison.Ordinal);
        Assert.Contains("--size 8388608 --tmpfs /tmp", text, StringComparison.Ordinal);
        Assert.Contains("--bind /w /workspace --bind /h /home/sandbox --ro-bind /c /run/harness/credentials --remount-ro / --chdir /workspace --clearenv", text, StringComparison.Ordinal);
        Assert.Contains("--setenv TOKEN secret value", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NetworkEgress_SharesTheNetwork()
    {
        Assert.Contains("--share-net", BubblewrapArguments.Build(Spec(SandboxNetwork.Egress), [], "/w", new BubblewrapSandboxOptions()));
    }

    [Fact]
    public void Encode_IsNulSeparated_AndRefusesANulInAValue()
    {
        Assert.Equal("a\0b c\0"u8.ToArray(), BubblewrapArguments.Encode(["a", "b c"]));
        Assert.Equal(SandboxErrorKind.Invalid, Assert.Throws<SandboxException>(() => BubblewrapArguments.Encode(["a\0b"])).Kind);
    }

    [Fact]
    public void RootFilesystem_Host_IsTheHostsSystemFoldersOnly()
    {
        var entries = RootFilesystem.Resolve("host", null);
        Assert.Contains(entries, e => e.Destination == "/usr");
        Assert.Contains(entries, e => e.Destination == "/etc");
        Assert.DoesNotContain(entries, e => e.Destination is "/home" or "/root" or "/var" or "/tmp");
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("missing")]
    public void RootFilesystem_NotAPlainExistingFolder_IsImageNotFound(string image)
    {
        var root = Directory.CreateTempSubdirectory("harness-rootfs-names-").FullName;
        try
        {
            Assert.Equal(SandboxErrorKind.ImageNotFound, Assert.Throws<SandboxException>(() => RootFilesystem.Resolve(image, root)).Kind);
        }
        finally
        {
            Directory.Delete(root);
        }
    }
}
