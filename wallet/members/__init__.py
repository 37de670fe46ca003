"""Members and staff: users, stores, passwords, refresh tokens and member numbers."""
