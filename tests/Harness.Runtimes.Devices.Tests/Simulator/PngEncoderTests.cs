using System.Text;
using Harness.Runtimes.Devices.Simulator;

namespace Harness.Runtimes.Devices.Tests.Simulator;

public sealed class PngEncoderTests
{
    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Encode_WritesChunksWithValidCrcsAndThePixels()
    {
        byte[] rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];

        var png = PngFile.Read(PngEncoder.Encode(2, 2, rgb));

        Assert.Equal((2, 2), (png.Width, png.Height));
        Assert.Equal(["IHDR", "IDAT", "IEND"], png.Chunks);
        // Each row: filter byte 0, then the pixels as given.
        Assert.Equal((byte[])[0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30], png.Pixels);
    }
}
