"""What the Lambda functions run: the runner and maintenance handler logic and their typed requests."""
