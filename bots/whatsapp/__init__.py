"""WhatsApp (Cloud API) on the shared core.

- :mod:`~bots.whatsapp.webhook` — the ``/whatsapp/webhook`` endpoint: Meta's verification
  challenge and signature-checked updates
- :mod:`~bots.whatsapp.inbound` — webhook payloads → neutral inbound events and statuses
- :mod:`~bots.whatsapp.bridge` — events → conversation engine → answers
- :mod:`~bots.whatsapp.render` — Outbound → Cloud API messages (text, reply buttons, lists,
  URL buttons, images)
- :mod:`~bots.whatsapp.channel` — answers and notices, the 24-hour window
  (:mod:`~bots.whatsapp.window`) and the notice template outside it
  (:mod:`~bots.whatsapp.templates`)
- :mod:`~bots.whatsapp.graph` — the Graph API client and its error codes
- :mod:`~bots.whatsapp.service` — wiring for ``collabbot run``
"""
