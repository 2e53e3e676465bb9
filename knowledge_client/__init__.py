"""Self-service answers: the knowledge-service port, its HTTP client (deadline, breaker, outbox),
the embedded FAQ index, ranking and the unanswered questions kept for editors."""
