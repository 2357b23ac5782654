"""Adapters: the side effects the pure pipeline reaches through its ports and values.

Files written to the project (rendered output, export, plan files), job runs over a connection.
The Fabric HTTP adapter is ``fabric/gateway.py``; connecting is ``connection.py``.
"""
