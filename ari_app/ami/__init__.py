"""AMI through panoramisk: agent phones' device state, with reconnect and backoff."""
