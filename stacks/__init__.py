"""Parry's CDK app: the responder stack in the security account and the member-account roles."""
