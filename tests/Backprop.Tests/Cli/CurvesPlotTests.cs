using Backprop.Cli.Reporting;

namespace Backprop.Tests.Cli;

public class CurvesPlotTests
{
    [Fact]
    public void Save_WritesAPngImage()
    {
        string dir = Directory.CreateTempSubdirectory("plot").FullName;
        try
        {
            string path = Path.Combine(dir, "curves.png");
            CurvesPlot.Save(path, "mlp", [1, 2, 3], [0.6, 0.4, 0.35], [0.5, 0.45, 0.4], [0.78, 0.85, 0.87], [0.8, 0.84, 0.86]);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 5000, $"only {bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
