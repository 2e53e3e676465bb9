"""Who may use the HTTP API: people who log in (users with argon2id passwords, roles and queue
scopes), their browser sessions (a cookie, CSRF token, idle and absolute timeouts, lockout after
failed logins), which calls a principal may see, and the audit of recording reads.

Machines use bearer tokens (`kernel.http.auth`); the one middleware that reads both is
`ari_app/web/auth.py`, with the route → roles table.
"""
