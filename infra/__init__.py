"""Shared infrastructure every domain package may import; imports no domain package."""
