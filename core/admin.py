"""Admin registrations for the legacy models (generated below)."""
