using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace OrleansPgStore.Tests.Clustering;

/// <summary>
/// A silo process of tests/OrleansPgStore.ClusterSilo, started as <c>dotnet OrleansPgStore.ClusterSilo.dll</c>. Its
/// stdin stays open while the test runs and the child exits when it closes, so no silo outlives the test, even a test
/// process that dies; disposing kills it.
/// </summary>
internal sealed class SiloChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _log;

    private SiloChildProcess(string name, Process process, ConcurrentQueue<string> log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    /// <summary>The silo address as Orleans prints it (<c>SiloAddress.ToParsableString</c>), once ready.</summary>
    public string Address => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : throw new InvalidOperationException($"Silo {Name} is not ready.");

    /// <summary>Where the silo's dll was built (the test project references it without loading it).</summary>
    public static string DllPath => typeof(SiloChildProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ClusterSilo").Value!;

    /// <summary>Starts a silo with <paramref name="arguments"/> (<c>--key value</c> pairs); its log lines go to <paramref name="log"/>.</summary>
    public static SiloChildProcess Start(string name, IReadOnlyDictionary<string, string> arguments, ConcurrentQueue<string> log)
    {
        if (!File.Exists(DllPath))
        {
            throw new FileNotFoundException($"The cluster silo is not built at {DllPath}; build tests/OrleansPgStore.Tests first.");
        }

        var start = new ProcessStartInfo
        {
            FileName = DotnetHost(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add($"--name={name}");
        foreach (var (key, value) in arguments)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        var process = new Process { StartInfo = start };
        var silo = new SiloChildProcess(name, process, log);
        process.OutputDataReceived += (_, e) => silo.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log.Enqueue($"[{name}] {e.Data}");
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits for the READY line; fails if the child exits first or is not ready within <paramref name="patience"/>.</summary>
    public async Task WaitReadyAsync(TimeSpan patience)
    {
        var first = await Task.WhenAny(_ready.Task, _process.WaitForExitAsync(), Task.Delay(patience));
        if (first != _ready.Task)
        {
            throw new InvalidOperationException(_process.HasExited
                ? $"Silo {Name} exited with code {_process.ExitCode} before it was ready."
                : $"Silo {Name} was not ready within {patience.TotalSeconds:0} s.");
        }
    }

    /// <summary>SIGKILL: no shutdown, its connections drop, its membership row and leases stay as they were.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The dotnet host running the tests (dotnet test names it), else the one on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } named && File.Exists(named))
        {
            return named;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("READY ", StringComparison.Ordinal))
        {
            _ready.TrySetResult(line["READY ".Length..].Trim());
        }
        else
        {
            _log.Enqueue($"[{Name}] {line}");
        }
    }
}
