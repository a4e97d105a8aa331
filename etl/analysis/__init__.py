"""Statistics on the derived tables: survival estimates and small-cell protection."""
