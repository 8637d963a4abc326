// The run's PostgreSQL server, started once for every test in the assembly.
[assembly: AssemblyFixture(typeof(OrleansPgStore.TestSupport.ServerFixture))]
