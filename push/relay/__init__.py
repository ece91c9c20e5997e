"""Relay tracking: hubs (parks, associations) pass policies on to their members; every hop is tracked."""
