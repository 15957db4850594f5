"""The web playground: a chat page on the process's HTTP endpoint, as a real channel.

A person picks one of the demo people (the operator, a seller's staff, a creator) and chats
with the same conversation engine as on Telegram, Discord and WhatsApp: their text, commands
and button presses become :class:`~core.conversations.messages.Inbound` events, the answers
come back as bubbles with buttons, and notices arrive live as the dispatcher delivers them.

- :mod:`bots.web.people` — who may be played (web identities of the demo only).
- :mod:`bots.web.render` — an ``Outbound`` as bubbles (HTML from ``to_html``, buttons).
- :mod:`bots.web.channel` — the ``Channel``: a chat history per person, kept in memory and
  pushed to every page open for that person.
- :mod:`bots.web.bridge` — page events in, engine answers out.
- :mod:`bots.web.routes` — ``GET /`` (the page) and the websocket ``/web/socket``.
- :mod:`bots.web.service` — wiring for ``collabbot run``.
"""
