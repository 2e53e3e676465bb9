"""The shared kernel: plumbing every room's adapters use and no room owns.
Database units of work, schema base and errors; the HTTP error shape and principals; backoff."""
