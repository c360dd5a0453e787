using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Backprop.Tests.Package;

/// <summary>
/// The library as a NuGet user gets it: packed from a copy of the sources into a folder feed, installed
/// into a new console project, built and run there. Checks the package's metadata, that the XML
/// documentation ships beside the assembly (IntelliSense), and that the symbols package exists.
/// </summary>
[Trait("Category", "Package")]
public class PackageTests
{
    [Fact]
    public void Library_PackedToAFolderFeed_InstallsIntoANewProject_WithDocumentation_AndRuns()
    {
        string root = RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("backprop-package-").FullName;
        try
        {
            // A copy of what the library's pack reads, so this build never touches the suite's own bin/ and obj/.
            string src = Path.Combine(work, "repo");
            CopySources(Path.Combine(root, "src", "Backprop"), Path.Combine(src, "src", "Backprop"));
            foreach (string file in new[] { "Directory.Build.props", "README.md", "LICENSE" })
                File.Copy(Path.Combine(root, file), Path.Combine(src, file));
            string version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
            string feed = Path.Combine(work, "feed");
            Run(src, "pack", "src/Backprop/Backprop.csproj", "-c", "Release", "-o", feed, $"-p:Version={version}");

            string nupkg = Path.Combine(feed, $"Backprop.{version}.nupkg");
            Assert.True(File.Exists(nupkg), $"no {nupkg}");
            Assert.True(File.Exists(Path.Combine(feed, $"Backprop.{version}.snupkg")), "no symbols package");
            using (ZipArchive zip = ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("lib/net10.0/Backprop.dll", names);
                Assert.Contains("lib/net10.0/Backprop.xml", names);
                Assert.Contains("README.md", names);
                Assert.Contains("icon.png", names);
                XDocument nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                XNamespace ns = nuspec.Root!.Name.Namespace;
                XElement meta = nuspec.Root.Element(ns + "metadata")!;
                Assert.Equal("MIT", meta.Element(ns + "license")?.Value);
                Assert.StartsWith("Deep learning in pure C#", meta.Element(ns + "description")?.Value);
                Assert.Contains("autograd", meta.Element(ns + "tags")?.Value);
                Assert.Equal("README.md", meta.Element(ns + "readme")?.Value);
                Assert.Equal("icon.png", meta.Element(ns + "icon")?.Value);
            }

            string consumer = Path.Combine(work, "consumer");
            Directory.CreateDirectory(consumer);
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RestorePackagesPath>{Path.Combine(work, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                    <RestoreFallbackFolders>{GlobalPackages()}</RestoreFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Backprop" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
                using Backprop.NN.Layers;
                using Backprop.Tensors;

                var layer = new Linear(3, 1, generator: new Generator(0));
                Tensor x = Tensor.FromArray(new float[,] { { 1, 2, 3 } });
                layer.Forward(x).Sum().Backward();
                Console.WriteLine($"dL/db = {layer.Bias!.Grad!.Item()}");
                """);
            string output = Run(consumer, "run", "-c", "Release");
            Assert.Contains("dL/db = 1", output);

            // What IntelliSense reads: the XML file next to the assembly in the installed package.
            string installed = Path.Combine(work, "packages", "backprop", version, "lib", "net10.0");
            Assert.True(File.Exists(Path.Combine(installed, "Backprop.dll")), $"package not installed under {installed}");
            XDocument docs = XDocument.Load(Path.Combine(installed, "Backprop.xml"));
            var members = docs.Descendants("member").Select(m => m.Attribute("name")!.Value).ToHashSet();
            Assert.Contains("T:Backprop.Tensors.Tensor", members);
            Assert.Contains("T:Backprop.NN.Layers.Linear", members);
            Assert.True(members.Count > 1000, $"only {members.Count} documented members");
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } // a build server may still hold a file
        }
    }

    private static string RepositoryRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        return root;
    }

    /// <summary>The machine's NuGet cache: the library's own dependencies come from there, as they did for the suite's build.</summary>
    private static string GlobalPackages()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static void CopySources(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(from, dir);
            string first = rel.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj") continue;
            Directory.CreateDirectory(Path.Combine(to, rel));
        }
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(from, file);
            string first = rel.Split(Path.DirectorySeparatorChar)[0];
            if (first is "bin" or "obj") continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, rel))!);
            File.Copy(file, Path.Combine(to, rel));
        }
    }

    /// <summary>Runs the dotnet CLI in <paramref name="directory"/> and returns its output; fails the test with the output on a non-zero exit.</summary>
    private static string Run(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        // The test host runs under `dotnet test`, whose MSBuild settings must not leak into a separate build.
        foreach (string key in start.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        string output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output;
    }
}
