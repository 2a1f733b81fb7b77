"""Playbooks: the model the engine runs, and (authoring only, never in the Lambda asset) their validation."""
