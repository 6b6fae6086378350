"""The support bot's understanding of a message: language, player-protection risk, intent,
and the hand-off rules. No database access and no services: the callers pass in what the
bot needs to know about the player and act on its decision."""
