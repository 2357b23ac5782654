"""Fixtures of the CI/CD integration tests: the loopback GitHub fake."""

from __future__ import annotations

from github_fake import fake_github

__all__ = ["fake_github"]
