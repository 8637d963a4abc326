using System.Diagnostics;

namespace OrleansPgStore.Sample.Cluster;

/// <summary>
/// A silo child process: this executable again, with <c>--cluster-silo K</c>. Its stdin stays open while the sample
/// runs; closing it stops the silo gracefully, <see cref="Kill"/> is <c>kill -9</c>.
/// </summary>
internal sealed class SiloChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloChild(int index, Process process)
    {
        Index = index;
        _process = process;
    }

    public int Index { get; }

    public string Name => $"silo{Index}";

    /// <summary>The silo's address (<c>SiloAddress.ToParsableString</c>), once ready.</summary>
    public Task<string> Ready => _ready.Task;

    public static SiloChild Start(int index, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Started as "dotnet <dll>" or through the app host: start the child the same way.
        if (Path.GetFileNameWithoutExtension(start.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(SiloChild).Assembly.Location);
        }

        start.ArgumentList.Add($"--cluster-silo={index}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var child = new SiloChild(index, process);
        process.OutputDataReceived += (_, e) => child.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnOutput(e.Data);
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException($"{child.Name} exited before it was ready."));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>SIGKILL: no shutdown; the others find out through probes and the membership table.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
    }

    /// <summary>Stops the silo gracefully (closes its stdin); kills it if it does not exit within 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException)
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
        }
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
            // One line per entry; the stack traces of the expected connection errors after a kill are cut short.
            Console.WriteLine($"  [{Name}] {(line.Length > 200 ? line[..200] + " …" : line)}");
        }
    }
}
