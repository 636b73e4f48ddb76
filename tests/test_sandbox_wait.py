"""The Sandbox handle's wait for subscriptions: a lesson writes a note only once the API listens."""
from __future__ import annotations

import pytest

from helpers.subscriptions import SubscriptionClient


def test_wait_for_subscriptions_returns_once_the_api_listens_and_times_out_otherwise(sandbox):
    client = SubscriptionClient(sandbox.api_url, token=sandbox.api_token)
    client.connect()
    try:
        client.subscribe("subscription { Notes { mutation } }")
        sandbox.wait_for_subscriptions(1, timeout=10)
        with pytest.raises(TimeoutError):
            sandbox.wait_for_subscriptions(2, timeout=0.2)
    finally:
        client.close()
    sandbox.wait_for_subscriptions(0, timeout=10)
