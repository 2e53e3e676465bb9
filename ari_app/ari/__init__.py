"""ARI: the REST client over a transport (HTTP, or the in-memory fake for tests), the event
stream, event parsing, errors and hangup causes."""
