"""Recordings and survey results: a conversation's recording from start to stored, verified file
(`lifecycle` over a `Recorder` port), its store and tables, its HTTP routes; naming, file moves."""
