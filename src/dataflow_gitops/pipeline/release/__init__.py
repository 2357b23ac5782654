"""The release half: deployment records, promotion, drift and export."""
