"""Migration scripts, applied in revision order (a package so that it ships in the wheel)."""
