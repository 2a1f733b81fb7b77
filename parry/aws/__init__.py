"""AWS plumbing: the one client factory, member-account roles, ARNs and AWS error helpers."""
