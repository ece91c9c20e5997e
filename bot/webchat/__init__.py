"""The web chat (/chat): the dialogue core and the web inbox for visitors of the site."""
