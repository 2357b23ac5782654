"""Stages ③–⑦ after observing: diff, impact, plan, plan file and apply."""
