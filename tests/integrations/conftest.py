"""Fixtures of the CI/CD integration tests: loopback fakes of GitHub and Azure Repos."""

from __future__ import annotations

from azure_fake import fake_azure
from github_fake import fake_github

__all__ = ["fake_azure", "fake_github"]
