using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Harness.Runtimes.Devices.Simulator;

namespace Harness.Runtimes.Devices.Tests;

/// <summary>Decodes a PNG far enough to prove it valid: signature, every chunk's CRC, IHDR, and IDAT inflating to the right size.</summary>
internal static class PngFile
{
    public sealed record Info(int Width, int Height, IReadOnlyList<string> Chunks, byte[] Pixels);

    public static Info Read(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(PngEncoder.Signature), "PNG signature");
        var chunks = new List<string>();
        var idat = new MemoryStream();
        int width = 0, height = 0;
        var at = 8;
        while (at < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(Crc32.Compute(png.AsSpan(at + 4, 4 + length)), crc);
            chunks.Add(type);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                Assert.Equal(2, data[9]);
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            at += 12 + length;
        }
        Assert.Equal(png.Length, at);
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }
        var raw = inflated.ToArray();
        Assert.Equal(((width * 3) + 1) * height, raw.Length);
        return new Info(width, height, chunks, raw);
    }
}
