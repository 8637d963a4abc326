using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansPgStore.Tests.Support;

/// <summary>
/// A TCP proxy in front of PostgreSQL that, when armed, lets the next statement run on the server and then drops the
/// connection before the client sees the result: the statement committed, but its outcome is unknown to the caller.
/// </summary>
/// <remarks>
/// It recognizes a result by the CommandComplete tag (<c>SELECT n</c> / <c>INSERT 0 n</c>) in the server's reply.
/// Commits are single statements with an implicit transaction that ends at the Sync sent with them, so the server
/// commits whether or not the reply arrives.
/// </remarks>
public sealed class CuttingProxy : IAsyncDisposable
{
    private static readonly byte[][] CompletionTags = [Encoding.ASCII.GetBytes("SELECT "), Encoding.ASCII.GetBytes("INSERT 0 ")];
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _armed;
    private int _cuts;

    public CuttingProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many replies were dropped.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Drops the reply to the next statement that completes on any connection.</summary>
    public void CutNextResult() => Volatile.Write(ref _armed, 1);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), inspect: false, connection);
                var down = PumpAsync(server.GetStream(), client.GetStream(), inspect: true, connection);
                await Task.WhenAny(up, down);
                await connection.CancelAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool inspect, CancellationTokenSource connection)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, connection.Token);
                if (read == 0)
                {
                    return;
                }

                if (inspect && Volatile.Read(ref _armed) == 1 && Completes(buffer.AsSpan(0, read))
                    && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    Interlocked.Increment(ref _cuts);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), connection.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static bool Completes(ReadOnlySpan<byte> data)
    {
        foreach (var tag in CompletionTags)
        {
            if (data.IndexOf(tag) >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
