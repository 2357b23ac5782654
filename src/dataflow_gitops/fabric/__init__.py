"""The Fabric REST client layer: auth, retries and throttling, LRO, pagination, typed errors.

All HTTP of dataflow_gitops lives here. It knows nothing of plans; ``gateway.py`` adapts it to the
pipeline's ports.
"""
