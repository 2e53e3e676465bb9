"""What callers hear and say: flows and their validation, IVR steps over a `CallChannel` port,
prompts and TTS, speech recognition and intent scoring, the survey, typed journey milestones."""
