"""Automation (issue 25): rules, segments, outbound webhooks."""
