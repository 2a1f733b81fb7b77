"""The case engine: run, plan, steps, approvals, undo, guardrails and the on-call notices."""
