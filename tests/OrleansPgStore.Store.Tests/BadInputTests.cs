using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests;

/// <summary>Every bad input fails before any I/O with an exception naming what was wrong, and nothing is written.</summary>
public sealed class BadInputTests(SchemaFixture db) : IClassFixture<SchemaFixture>, IAsyncLifetime
{
    private JournalStore _journal = null!;
    private DurableStateStore _state = null!;

    public async ValueTask InitializeAsync()
    {
        _journal = await db.JournalAsync("bad_input");
        _state = await db.StateAsync("bad_state");
    }

    public async ValueTask DisposeAsync()
    {
        Assert.Equal(0, await db.CountAsync("bad_input"));
        Assert.Equal(0, await db.CountAsync("bad_state"));
        await _journal.DisposeAsync();
        await _state.DisposeAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Null_or_empty_stream_names_are_rejected(string? stream)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync(stream!, Events.Many(1)));
        Assert.Contains("Stream name", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Null_or_empty_persistence_ids_are_rejected(string? id)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _state.UpsertAsync(id!, 0, "{}"));
        Assert.Contains("Persistence id", error.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => _state.LoadAsync(id!));
        await Assert.ThrowsAsync<ArgumentException>(() => _state.DeleteAsync(id!));
    }

    [Fact]
    public async Task An_expected_version_below_minus_one_is_rejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _journal.CommitAsync("s", Events.Many(1), expectedVersion: -2));
        Assert.Contains("'s'", error.Message);
    }

    [Fact]
    public async Task A_commit_of_more_events_than_one_transaction_has_positions_for_is_refused_by_name_before_any_write()
    {
        // Positions keep 20 bits for the event's index within its transaction: 2^20 - 1 events fit, 2^20 do not.
        var tooMany = Enumerable.Repeat(Events.Make(), 1 << 20).ToArray();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("big", tooMany));
        Assert.Contains("'big'", error.Message);
        Assert.Contains($"has {1 << 20} events; at most {(1 << 20) - 1} fit in one commit", error.Message);
    }

    [Fact]
    public async Task A_negative_revision_is_rejected()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _state.UpsertAsync("p", -1, "{}"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _state.DeleteAsync("p", -1));
    }

    [Fact]
    public async Task A_nul_byte_in_an_event_name_names_the_stream_and_the_event()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => _journal.CommitAsync("orders-1", [Events.Make("Ok"), new EventData("Bad\0Name", "{}")]));

        Assert.Contains("orders-1", error.Message);
        Assert.Contains("event #1", error.Message);
        Assert.Contains("NUL", error.Message);
    }

    [Theory]
    [InlineData("{\"text\":\"a\\u0000b\"}")]
    [InlineData("{\"a\\u0000\":1}")]
    [InlineData("\"\0\"")]
    public async Task A_nul_in_a_payload_names_the_stream_and_the_event(string json)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => _journal.CommitAsync("orders-2", [Events.Make("Ok"), new EventData("Paid", json)]));

        Assert.Contains("orders-2", error.Message);
        Assert.Contains("'Paid'", error.Message);
    }

    [Fact]
    public async Task An_escaped_backslash_before_u0000_text_is_legal_json_and_round_trips()
    {
        // The JSON text "\\u0000" is a backslash followed by "u0000", not a NUL: it must be accepted.
        await using var store = await db.JournalAsync("bad_input_escape");
        await store.CommitAsync("s", [new EventData("Text", """{"t":"\\u0000"}""")]);

        var e = Assert.Single(await store.LoadAsync("s").ToListAsync());
        Assert.Equal("\\u0000", e.Deserialize<Dictionary<string, string>>()!["t"]);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"unterminated\": ")]
    [InlineData("{} {}")]
    [InlineData("")]
    public async Task A_payload_that_is_not_json_is_rejected(string json)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [new EventData("E", json)]));
        Assert.Contains("not valid JSON", error.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => _state.UpsertAsync("p", 0, json));
    }

    [Fact]
    public async Task Reserved_and_unstorable_names_are_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [new EventData("$snapshot", "{}")]));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [new EventData("", "{}")]));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [null!]));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [new EventData("E", null!)]));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync(new string('x', 2000), Events.Many(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s\0", Events.Many(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("\ud800", Events.Many(1)));
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", Events.Many(1), new EventMetadata("c\0")));
        var id = Guid.NewGuid();
        await Assert.ThrowsAsync<ArgumentException>(() => _journal.CommitAsync("s", [Events.Make(id: id), Events.Make(id: id)]));
    }

    [Fact]
    public async Task Query_filters_that_postgres_cannot_take_are_argument_errors_naming_the_filter()
    {
        var surrogate = await Assert.ThrowsAsync<ArgumentException>(() => _journal.QueryAsync(new JournalQuery { CorrelationId = "\ud800" }).ToListAsync());
        var nul = await Assert.ThrowsAsync<ArgumentException>(() => _journal.QueryAsync(new JournalQuery { Names = ["a\0b"] }).ToListAsync());

        Assert.Contains("CorrelationId", surrogate.Message);
        Assert.Contains("Names", nul.Message);
        Assert.Throws<ArgumentException>(() => new OrleansPgStore.Store.Reactions.ReactionOptions { LeaseDuration = TimeSpan.FromDays(400) }.Validate());
    }

    [Fact]
    public async Task An_invalid_stream_pattern_is_an_argument_error()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _journal.QueryAsync(new JournalQuery { StreamPattern = "(unclosed" }).ToListAsync());
        Assert.Contains("StreamPattern", error.Message);
    }

    [Fact]
    public async Task Contradictory_query_bounds_return_nothing_without_error()
    {
        Assert.Empty(await _journal.QueryAsync(new JournalQuery { After = 10, Before = 5 }).ToListAsync());
        Assert.Empty(await _journal.QueryAsync(new JournalQuery { After = long.MaxValue }).ToListAsync());
        Assert.Empty(await _journal.QueryAsync(new JournalQuery { Limit = -1 }).ToListAsync());
    }
}
