namespace OrleansPgStore.Testing;

/// <summary>Which PostgreSQL server <see cref="PostgresTestServer"/> chose for the run.</summary>
public enum PostgresServerKind
{
    /// <summary>The server named by the connection string in <see cref="PostgresTestServer.ConnectionVariable"/>.</summary>
    Configured,

    /// <summary>A Docker container started through Testcontainers (asked for with <see cref="PostgresTestServer.ContainerVariable"/>).</summary>
    Container,

    /// <summary>A private throw-away cluster (<see cref="PrivatePostgresCluster"/>) started with initdb and pg_ctl.</summary>
    PrivateCluster,
}
