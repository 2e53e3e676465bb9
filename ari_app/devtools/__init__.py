"""Development tools, not production code: the caller simulator, the demo, speech turn sampling."""
