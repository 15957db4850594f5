"""Screens: what each command, button and flow step shows. Importing a module registers its
handlers on the shared router; :func:`load` imports them all."""

from __future__ import annotations

import importlib

from core.conversations.screens import common, creator_videos

MODULES = (
    "common",
    "onboarding",
    "creator_offers",
    "creator_orders",
    "creator_videos",
    "profile",
    "seller_offers",
    "seller_applications",
    "seller_fulfilment",
    "offer_wizard",
    "operator",
    "broadcast",
)

__all__ = ["MODULES", "common", "creator_videos", "load"]


def load() -> None:
    """Register every screen's handlers (idempotent)."""
    for name in MODULES:
        importlib.import_module(f"core.conversations.screens.{name}")
