using System.Diagnostics;

namespace OrleansPgStore.Plugin.Benchmarks.ScaleOut;

/// <summary>
/// A child process of this executable running one silo (<see cref="ScaleOutSilo"/>). Its stdin stays open while the
/// benchmark runs; the child exits when it closes, so no silo outlives the benchmark, even one killed abruptly.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<int, string> _onLog;

    private SiloProcess(int index, Process process, Action<int, string> onLog)
    {
        Index = index;
        _process = process;
        _onLog = onLog;
    }

    /// <summary>The silo's index: 0 is the primary of the development clustering.</summary>
    public int Index { get; }

    /// <summary>The silo's address as Orleans prints it (<c>SiloAddress.ToParsableString</c>), known once it is ready.</summary>
    public string Address => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : throw new InvalidOperationException($"Silo {Index} is not ready.");

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>--silo</c> with <paramref name="arguments"/>, through the same host as this process.</summary>
    public static SiloProcess Start(int index, IEnumerable<string> arguments, Action<int, string> onLog)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Started as "dotnet <dll>" or through the app host: start the child the same way.
        var host = Environment.ProcessPath!;
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = host;
            start.ArgumentList.Add(typeof(SiloProcess).Assembly.Location);
        }
        else
        {
            start.FileName = host;
        }

        start.ArgumentList.Add("--silo");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var silo = new SiloProcess(index, process, onLog);
        process.OutputDataReceived += (_, e) => silo.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLog(index, e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits for the READY line; fails if the child exits first or takes longer than <paramref name="timeout"/>.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout));
        if (first != _ready.Task)
        {
            throw new InvalidOperationException(_process.HasExited
                ? $"Silo {Index} exited with code {_process.ExitCode} before it was ready."
                : $"Silo {Index} was not ready after {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Kills the process at once (no shutdown: its connections drop, its leases stay until released).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            // SIGKILL; the silo starts no processes of its own.
            _process.Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
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
            _onLog(Index, line);
        }
    }
}
