"""The REST API under /api/: JSON in and out, bearer tokens, errors naming the field."""
