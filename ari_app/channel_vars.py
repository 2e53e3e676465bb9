"""The contract with dialplans/: every channel variable and Stasis argument, named once.

tests/unit/test_dialplan_contract.py checks that dialplans/*.conf uses exactly these names.
"""

from typing import Final

# Stasis(<app>,<role>[,<call_id>]) first argument.
ROLE_INBOUND: Final = "inbound"
ROLE_AGENT: Final = "agent"
# A snoop channel recording a conversation (ari_app/calls/snoop_recorder.py): not a caller.
ROLE_RECORDER: Final = "recorder"
# A supervisor's phone monitoring a call, and the snoop it hears the call through
# (ari_app/calls/monitoring/): not a caller.
ROLE_MONITOR: Final = "monitor"
ROLE_SIM_CALLER: Final = "sim-caller"

# Global variable holding the Stasis app name in extensions.conf.
APP_NAME_VAR: Final = "HOTLINE_APP"

# Set by an upstream system (or the caller simulator) to correlate a call across systems;
# listed in ari.conf channelvars so it arrives in every channel snapshot.
CORRELATION_ID_VAR: Final = "HOTLINE_CORRELATION_ID"

# Dialplan contexts the service and its tools refer to.
HOTLINE_CONTEXT: Final = "hotline"
FALLBACK_CONTEXT: Final = "hotline-fallback"
SIM_CALLERS_CONTEXT: Final = "sim-callers"
SIM_AGENTS_CONTEXT: Final = "sim-agents"

CHANNEL_VARS: Final = frozenset({CORRELATION_ID_VAR})
