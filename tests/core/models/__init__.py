"""Tests of core/models/."""
