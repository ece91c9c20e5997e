"""Time-driven work of the delivery pipeline: deadline reminders, department notices, expiry,
housekeeping, and the scheduler that runs them (`push.jobs.service.run_scheduler`)."""
