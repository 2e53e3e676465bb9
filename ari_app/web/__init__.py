"""The HTTP app: assembled from the rooms' routes behind one authentication middleware (one
route -> roles table) and one JSON error middleware; `/health`."""
