namespace OrleansPgStore.Store.Leasing;

/// <summary>The result of <see cref="LeaseStore.SubscribeAsync"/>.</summary>
/// <param name="Subscribed">How many targets were new.</param>
/// <param name="Watermark">The highest watermark among all subscriptions (-1: none handled yet).</param>
internal sealed record SubscribeResult(long Subscribed, long Watermark);
