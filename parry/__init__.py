"""Parry: incident-response automation for AWS, driven by YAML playbooks."""

__version__ = "0.1.0"
