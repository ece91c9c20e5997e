"""The delivery pipeline: fan-out, durable delivery queue, channel adapters, rate limits,
retries, digests, read receipts, relay tracking, scheduled jobs."""
