"""The match index held in memory by each process (see docs/adr/0011-in-memory-match-index.md).

`memory` is the data structure, `load` fills it from the database index in bulk,
`changes` is the change log every writer appends to, and `live` keeps one index per
database up to date from that log.
"""
