"""HTTP face: department console, REST API, public policy pages, read-tracking links,
web chat; mounts the bot webhooks."""
