"""Words every layer shares and their Chinese labels. No database, and nothing above `core`:
policies, subscriptions, push, bot and web all read from here, never the other way round."""
