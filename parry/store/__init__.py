"""The case store: the case model, CaseStore over DynamoDB, and the table schema."""
