"""Evidence: the write-once writer, signed manifests, the verifier and the case report."""
