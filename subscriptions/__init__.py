"""Subscribers, their criteria and addresses, hubs, and matching a policy to its audience."""
