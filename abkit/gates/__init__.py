"""Decision rules per strategy: test results in, go / no-go / inconclusive out."""
