"""Zalo through the Zalo Bot Platform, with our own small httpx client: numbered menus, webhook or polling."""
