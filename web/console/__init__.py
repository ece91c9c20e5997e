"""The department console: server-rendered pages under /console."""
