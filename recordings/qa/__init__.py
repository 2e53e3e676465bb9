"""Quality assurance over the stored recordings: search, comments pinned to times, scorecards
(versioned forms, weighted criteria, N/A and auto-fail), calibration, release to the agent and
disputes, the training library, and the audit of every listen (`docs/qa.md`)."""
