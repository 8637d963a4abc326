using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Reactions;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reactions;

/// <summary>
/// A silo with reactions and no reminder service says so once, naming the fix, without a stack trace (the workers
/// still run); with a reminder service it says nothing.
/// </summary>
public sealed class ReminderServiceWarningTests
{
    private const string Warning = "No reminder service is registered";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_missing_reminder_service_is_one_warning_per_silo_naming_the_fix(bool withReminders)
    {
        await using var schema = await PostgresTestSchema.CreateAsync("reminder-warning");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1,
            configure: options =>
            {
                options.Reactions.Workers = 3;
                options.Reactions.On("Deposited", (_, _, _) => Task.CompletedTask);
            },
            configureSilo: silo =>
            {
                silo.Services.AddSingleton<ILoggerProvider>(capture);
                if (withReminders)
                {
                    silo.UseInMemoryReminderService();
                }
            });
        await cluster.DeployAsync();

        // Each call returns after the worker's reminder step: once all three returned, every worker has been through it.
        foreach (var index in Enumerable.Range(0, 3))
        {
            await cluster.Client.GetGrain<IReactionWorkerGrain>($"{TestClusters.Provider}/{index}").EnsureStartedAsync();
        }

        var warnings = capture.Messages.Where(m => m.Contains(Warning, StringComparison.Ordinal)).ToList();
        if (withReminders)
        {
            Assert.Empty(warnings);
        }
        else
        {
            var warning = Assert.Single(warnings);
            Assert.StartsWith("Warning", warning, StringComparison.Ordinal);
            Assert.Contains("UsePostgresReminderService()", warning, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", warning, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(capture.Messages, m => m.Contains("IReminderRegistry", StringComparison.Ordinal));
    }
}
