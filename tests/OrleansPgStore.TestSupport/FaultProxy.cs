using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace OrleansPgStore.TestSupport;

/// <summary>
/// A TCP relay between a client and PostgreSQL that injects network faults deterministically: it can swallow the
/// server's replies (<see cref="MuteServer"/>), cut every connection (<see cref="CutAll"/>), refuse connections for a while
/// (<see cref="Down"/>), or let the next statement complete on the server and drop its connection before the client sees
/// the result (<see cref="CutNextResult"/>).
/// The last two are how a client loses its connection after the server has already committed.
/// </summary>
/// <remarks>
/// A completed statement is recognized by the CommandComplete tag (<c>SELECT n</c> / <c>INSERT 0 n</c>) in the
/// server's reply. A single statement with an implicit transaction ends at the Sync sent with it, so the server
/// commits whether or not the reply arrives.
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private static readonly byte[][] CompletionTags = [Encoding.ASCII.GetBytes("SELECT "), Encoding.ASCII.GetBytes("INSERT 0 ")];
    private TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _listenPort;
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _pairs = [];
    private readonly Lock _listening = new();
    private Task _accepting;
    private bool _down;
    private volatile bool _muted;
    private int _armed;
    private int _cuts;

    private FaultProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _listenPort = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_listener);
    }

    /// <summary>A relay to the server of <paramref name="connectionString"/>, and the connection string that goes through it.</summary>
    public static (FaultProxy Proxy, string ConnectionString) To(string connectionString, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.Host) || builder.Host.Contains(',') || builder.Host.StartsWith('/'))
        {
            throw new InvalidOperationException($"The proxy needs one TCP host; the test server's is '{builder.Host}'.");
        }

        var proxy = new FaultProxy(builder.Host, builder.Port);
        builder.Host = "127.0.0.1";
        builder.Port = proxy._listenPort;
        configure?.Invoke(builder);
        return (proxy, builder.ConnectionString);
    }

    /// <summary>While true, the server's replies are read and dropped: the server carries on, the client hears nothing.</summary>
    public bool MuteServer
    {
        get => _muted;
        set => _muted = value;
    }

    /// <summary>
    /// While true, the relay is down as an unreachable server is: every relayed connection is cut and the port stops
    /// listening, so new connections are refused. Setting it back to false listens on the same port again.
    /// </summary>
    public bool Down
    {
        get
        {
            lock (_listening)
            {
                return _down;
            }
        }

        set
        {
            lock (_listening)
            {
                if (value == _down)
                {
                    return;
                }

                _down = value;
                if (value)
                {
                    _listener.Stop();
                    CutAll();
                }
                else
                {
                    // The same port: the clients' connection string names it.
                    _listener = new TcpListener(IPAddress.Loopback, _listenPort);
                    _listener.Start();
                    _accepting = AcceptAsync(_listener);
                }
            }
        }
    }

    /// <summary>How many connections <see cref="CutNextResult"/> dropped.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Drops the connection of the next statement that completes on any connection, before its reply passes.</summary>
    public void CutNextResult() => Volatile.Write(ref _armed, 1);

    /// <summary>Closes every relayed connection; the clients see their connections drop.</summary>
    public void CutAll()
    {
        lock (_pairs)
        {
            foreach (var (client, server) in _pairs)
            {
                client.Dispose();
                server.Dispose();
            }

            _pairs.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task accepting;
        lock (_listening)
        {
            _listener.Stop();
            accepting = _accepting;
        }

        CutAll();
        await accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_host, _port, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_pairs)
            {
                _pairs.Add((client, server));
            }

            _ = PumpAsync(client, server, fromServer: false);
            _ = PumpAsync(server, client, fromServer: true);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool fromServer)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            int read;
            while ((read = await source.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (fromServer && _muted)
                {
                    continue;
                }

                if (fromServer && Volatile.Read(ref _armed) == 1 && Completes(buffer.AsSpan(0, read))
                    && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    Interlocked.Increment(ref _cuts);
                    return;
                }

                await target.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            // One side ended: end the other, as a real network failure would.
            from.Dispose();
            to.Dispose();
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
