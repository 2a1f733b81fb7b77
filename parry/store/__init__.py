"""The case store: the case and its step results, CaseStore over DynamoDB, and the table schema."""
