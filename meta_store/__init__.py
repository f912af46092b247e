"""The meta store (SQLite database of past transfer outcomes).

Installed as ``transferability.meta_store``. Its schema, access layer and shipped records
arrive with the meta-store issue; nothing here yet.
"""
