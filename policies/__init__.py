"""The policy library: documents, revisions, interpretations, topics, validity; Chinese text
processing; search and Q&A. Other packages use `policies.service` only."""
