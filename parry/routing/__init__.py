"""Which events reach which playbook: the EventBridge pattern matcher, expressions, event shapes."""
