"""Automation (issue 25): rules on order behaviour, outbound webhooks, segments."""
