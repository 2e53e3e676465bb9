"""The call engine: one CallSession task per call (IVR, queue, agent legs, conversation, survey),
the dispatcher feeding it ARI events, its journal and store, and the calls' HTTP routes."""
