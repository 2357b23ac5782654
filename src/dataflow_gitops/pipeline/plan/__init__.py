"""Stages ③–⑦: observe, diff, impact, plan, plan file and apply."""
