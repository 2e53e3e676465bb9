"""The supervisors' console: web pages over the routing, live and report APIs."""
