"""SQL repositories: stored rows mapped to the marketplace's domain objects and back.

Every repository works inside one unit of work's session and returns plain ``core.domain``
objects. ``save`` is a conditional update on the row's ``version``; a stale save, or a
unique constraint hit by a concurrent change, raises
:class:`~core.domain.errors.ConcurrencyConflict` so the service layer retries.
"""

from storage.repositories.broadcasts import SqlBroadcastRepository
from storage.repositories.members import SqlMemberRepository
from storage.repositories.offers import SqlOfferRepository
from storage.repositories.orders import SqlOrderRepository
from storage.repositories.outbox import OutboxStatus, SqlOutboxRepository
from storage.repositories.sellers import SqlProductRepository, SqlSellerRepository

__all__ = [
    "OutboxStatus",
    "SqlBroadcastRepository",
    "SqlMemberRepository",
    "SqlOfferRepository",
    "SqlOrderRepository",
    "SqlOutboxRepository",
    "SqlProductRepository",
    "SqlSellerRepository",
]
