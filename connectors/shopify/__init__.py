"""Shopify (REST Admin API): a faithful local sandbox; the connector itself comes next."""
