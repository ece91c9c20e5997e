"""The delivery pipeline's queries, one module per table or purpose. Nothing else in the code
base builds SQL on `delivery`, `delivery_attempt`, `fanout_progress`, `web_inbox_message` or
`write_probe`.

    writing      the SQLite writers' turns (`writing(db)`), the session every pipeline write uses
    fanout       what the fan-out writes: delivery rows (insert-or-ignore), its progress rows
    queue        claim with a lease, record outcomes and attempts, renew, defer, release, sweep
    deliveries   one delivery and its receipts; the address side effects; the reads of relay and
                 deadline-reminder jobs
    attempts     the attempt trail's retention
    reach        per-policy reach, the console's reports, the /metrics gauges
    inbox        the web channel's inbox
    probe        the write probe behind /healthz

Two hot paths bypass the ORM on purpose (see docs/adr/0001-delivery-queue.md and the figures
in bench/): the fan-out insert goes straight to the driver (sqlite3 `executemany`, asyncpg
COPY into a temporary table), and so do the claim (SQLite) and the record of outcomes
(sqlite3 `executemany`, asyncpg `unnest`), one statement per batch.
"""
