"""HTTP plumbing every room's routes use: the one error shape, principals and tokens, reading
requests, JSON replies."""
