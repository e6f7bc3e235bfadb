"""Helpers the tests share: mock servers, the real claude, child processes."""
