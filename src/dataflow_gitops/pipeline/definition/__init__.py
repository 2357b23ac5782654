"""Stages ① source and ② render: the definition as git holds it, and as an environment gets it."""
