"""Handlers layer (moto's responses.py): `Ctx` → parse path, query and body → call `State` → shape
the Fabric JSON `Reply`. No rules live here."""
