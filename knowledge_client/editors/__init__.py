"""The knowledge editors' loop: what callers asked that self-service could not answer (or answered
and the caller said "no"), kept in the database in every knowledge mode, grouped by similarity,
and turned by an editor into a new FAQ answer or a variant of one, which the embedded source
answers from the next lookup on (`docs/qa.md`)."""
