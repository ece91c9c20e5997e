"""Chinese text processing: tokenising, tag suggestion, document header extraction."""
