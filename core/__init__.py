"""Infrastructure shared by every domain package: settings, database, clock, calendar."""
