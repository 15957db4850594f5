"""Discord on the shared core (discord.py 2.x): slash commands, persistent buttons, modals
for typed answers, and notices by direct message.

:mod:`.render` and :mod:`.inbound` are pure (Outbound → message parts, interaction fields →
Inbound); :mod:`.components` holds the persistent buttons and the answer modal;
:mod:`.bridge` acknowledges every interaction in time and delivers the engine's answers;
:mod:`.channel` sends notices; :mod:`.service` runs the client for ``collabbot run``.
"""
